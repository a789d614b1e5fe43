"""A deterministic synthetic product catalog in the original WebShop raw formats.

``generate(n, seed)`` yields one ``SyntheticItem`` per product: a record in the
``items_shuffle`` schema, its ``items_ins_v2`` entry (attributes and, for about 40% of
products, a templated "Find me ..." instruction), its ``items_human_ins`` entries (shopper-like
requests for about a quarter of the products) and the noun tokens of its title. The catalog
loader processes these records exactly as it processes the original files, so everything
downstream (search index, goals, reward) is shared. All text comes from this module's own
vocabulary; only the structure and rough statistics follow the original sample.

Design
------
* ``PRODUCT_TYPES`` (132 types over the original's five categories) each carry the query
  the product was "crawled" for, a 3-5 level ``product_category`` path, title nouns, the
  names shoppers use, an own attribute pool (12-13 short phrases), option dimensions and
  a price range. A product draws its type, then brand, title, bullets, description,
  attributes, options and price from pools, so each query has many near-duplicate
  competitors: same type words, overlapping attributes (half of them, on average, come from
  pools shared by the whole category and by all categories), the same option values, and
  some keyword-stuffed listings, as on the real site. Searching a shopper's request finds the
  right type easily, the exact product only sometimes, and the first hit often misses an
  attribute and never has the requested options unless one picks them.
* Human instructions name the type in shoppers' words, 1-3 of the product's attributes
  (often reworded: "easy to install", "washer safe", "celiac safe"; see ``_SHOPPER_WORDS``)
  and 0-3 option values, one per option dimension. ``instruction_options`` hold the values in
  the loader's processed form (``value.strip().replace('/', ' | ').lower()``), so each equals
  a processed option value of the product. There is never price text: the loader appends
  ", and price lower than X dollars".
* ``title_nouns`` are known by construction: each vocabulary phrase is split into tokens at
  import; a token is a noun unless ``_NOT_NOUNS`` lists it (adjectives, verbs, function words,
  colours) or it holds a digit; brand words are always nouns. On titles this agrees with
  spaCy's NOUN/PROPN tags at ~98% precision (spaCy also tags many title-cased adjectives
  PROPN, which are left out here on purpose).
* Speed: everything that can be is precomputed at import (phrases with their nouns, title
  format strings, multi-sentence bullet/description templates, shuffled orders of pools), so
  a product costs one seeding and ~40 draws: 50-65 us on CPython 3.11 (a shared 2-vCPU VM).

Determinism
-----------
Product ``i`` depends only on ``(seed, i)``: its generator is ``random.Random`` seeded with
an integer made of the seed and the index (``_rng_key``), so any prefix of a catalog is the
catalog of that size. Only ``Random.random()`` is used (choices and samples are done here,
not with ``choice``/``sample``, whose algorithms changed between Python versions), and no
libm function touches the output: prices come from geometric ladders built by
multiplication, the other distributions are tables. Import-time tables (sentence templates,
shuffled orders) are drawn the same way from fixed seeds. Nothing depends on ``hash()``, set
order, time or global random state. ASINs are ``"B0"`` + 8 base-36 digits of a Feistel
permutation of the index: unique, not sequential-looking, the same for every seed.

Knobs and calibration
---------------------
The rule baseline of the WebShop paper (search the instruction, buy the first hit without
choosing options) scored 45.6 with 9.6% success on the original. On the default 10,000
product catalog of this generator it scores about 50 with about 9-10% success (Lucene BM25
k1=0.9 b=0.4, all human goals), and about the same at 100,000 products. Knobs, all read at
generation time except ``PRICE_SPREAD``:

* ``INSTRUCTION_OPTION_WEIGHTS`` (P of 0..3 options named, capped by the product's option
  dimensions) and ``HUMAN_RATE_BY_DIMENSIONS``: the strongest levers on the baseline's
  score; the share of requests naming no option caps its success rate.
* ``PARAPHRASE_RATE`` how often a shopper rewords an attribute; ``SHARED_ATTRIBUTE_RATE``
  share of attributes from shared pools; ``BRAND_MENTION_RATE`` how often the brand is
  named (which makes the exact product easy to find). Higher paraphrase, lower brand rate:
  harder.
* ``INSTRUCTION_ATTRIBUTE_WEIGHTS`` (P of 1..3 attributes named),
  ``SECOND_HUMAN_RATE`` (products with two requests), ``SYNTHETIC_INSTRUCTION_RATE``,
  ``OPTION_RATE``, price knobs.

Bump ``VERSION`` whenever the output changes: built catalogs are cached under it (and
``tests/test_synthetic.py`` pins a digest of the first products).
"""

from __future__ import annotations

import math
import random
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter

VERSION = 2  # 1: an early draft (different output)

# ----- knobs ------------------------------------------------------------------------------
OPTION_RATE = 0.5
SHARED_ATTRIBUTE_RATE = 0.5
SYNTHETIC_INSTRUCTION_RATE = 0.4
# P(human instructions) for a product with 0, 1, 2, 3 option dimensions: shoppers' requests
# go mostly to products with several options, as in the original (~25% of products overall)
HUMAN_RATE_BY_DIMENSIONS = (0.08, 0.2, 0.65, 0.65)
SECOND_HUMAN_RATE = 0.2
INSTRUCTION_OPTION_WEIGHTS = (0.04, 0.2, 0.6, 0.16)  # P(0, 1, 2, 3 options named)
INSTRUCTION_ATTRIBUTE_WEIGHTS = (0.78, 0.18, 0.04)  # P(1, 2, 3 attributes named)
PARAPHRASE_RATE = 0.6
BRAND_MENTION_RATE = 0.05
EMPTY_DESCRIPTION_RATE = 0.25
PRICE_RANGE_RATE = (0.03, 0.17)  # P("$a - $b") without / with options: ~10% overall
NO_PRICE_RATE = 0.02
PRICE_SPREAD = 2.0  # type price ranges are widened by this factor each way (read at import)

CATEGORIES: tuple[str, ...] = ("beauty", "electronics", "fashion", "garden", "grocery")
# the original sample's category mix (beauty 24%, electronics 23%, garden 22%, ...)
_CATEGORY_WEIGHTS = {"beauty": 24, "electronics": 23, "fashion": 20, "garden": 22, "grocery": 11}


# ----- option dimensions --------------------------------------------------------------------
# key -> (option name as shown on the page, ordered?, values). Ordered dimensions (sizes,
# counts) are cut as contiguous runs; unordered ones (colours, flavours) are sampled.
_OPTION_POOLS: dict[str, tuple[str, bool, str]] = {
    "color_apparel": ("Color", False, "Black|White|Navy Blue|Heather Grey|Charcoal|Olive Green|Khaki|Burgundy|"
                      "Royal Blue|Red|Light Blue|Dark Grey|Army Green|Brown|Black/White|Navy/Grey|Maroon|"
                      "Forest Green|Sand|Slate Blue|Orange|Teal"),
    "color_women": ("Color", False, "Black|White|Wine Red|Blush Pink|Dusty Blue|Leopard|Floral Print|Apricot|"
                    "Lavender|Emerald Green|Navy|Beige|Coffee|Mustard Yellow|Sky Blue|Hot Pink|Black/Red|"
                    "A-Black|B-Pink|Z1-Green|Ivory|Mint|Rust"),
    "size_apparel": ("Size", True, "X-Small|Small|Medium|Large|X-Large|XX-Large|3X-Large|4X-Large|5X-Large"),
    "size_waist": ("Size", True, "28|29|30|31|32|33|34|35|36|38|40|42|44"),
    "size_jeans": ("Size", True, "28W x 30L|30W x 30L|30W x 32L|32W x 30L|32W x 32L|33W x 32L|34W x 30L|"
                   "34W x 32L|36W x 30L|36W x 32L|38W x 32L|40W x 32L"),
    "size_women_num": ("Size", True, "0|2|4|6|8|10|12|14|16|18"),
    "size_shoe_men": ("Size", True, "7|7.5|8|8.5|9|9.5|10|10.5|11|11.5|12|13|14"),
    "size_shoe_women": ("Size", True, "5|5.5|6|6.5|7|7.5|8|8.5|9|9.5|10|11"),
    "size_socks": ("Size", True, "Shoe Size 4-6|Shoe Size 6-9|Shoe Size 9-11|Shoe Size 10-13|Shoe Size 12-15"),
    "fit_type": ("Fit Type", False, "Men|Women|Youth"),
    "pattern_name": ("Pattern Name", False, "Solid|Striped|Plaid|Floral|Polka Dot|Camo|Tie Dye|Geometric|"
                     "Paisley|Leopard Print"),
    "item_package_quantity": ("Item Package Quantity", True, "1|2|3|4|5|6|8|10|12"),
    "number_of_items": ("Number of Items", True, "1|2|3|4|6|8|12|24"),
    "style_generic": ("Style", False, "Style A|Style B|Style C|Style D|Style E|1 Piece|2 Pieces|3 Pieces|Classic|"
                      "Deluxe"),
    "color_tech": ("Color", False, "Black|White|Silver|Space Gray|Blue|Red|Rose Gold|Green|Gold|Pink|Purple|"
                   "Black/Red|Midnight Blue|Graphite"),
    "cable_length": ("Size", True, "1 Foot|3 Feet|6 Feet|10 Feet|15 Feet|25 Feet|35 Feet|50 Feet|100 Feet"),
    "screen_size": ("Size", True, "24 Inch|27 Inch|32 Inch|40 Inch|43 Inch|50 Inch|55 Inch|65 Inch|75 Inch|85 Inch"),
    "screen_fabric": ("Size", True, "72 Inch|84 Inch|100 Inch|120 Inch|135 Inch|150 Inch"),
    "mount_fit": ("Size", True, "Fits 13-42 Inch|Fits 26-55 Inch|Fits 32-65 Inch|Fits 37-75 Inch|Fits 42-85 Inch"),
    "mattress_thickness": ("Style", True, "6 Inch|8 Inch|10 Inch|12 Inch|14 Inch|Medium Firm|Plush"),
    "storage_capacity": ("Capacity", True, "16GB|32GB|64GB|128GB|256GB|512GB|1TB"),
    "style_tech": ("Style", False, "Base|Bundle|With Case|Kit|Pro|Lite|Plus|Standard|Upgraded|2 Pack Bundle"),
    "phone_size": ("Size", True, "5.4 Inch|5.8 Inch|6.1 Inch|6.5 Inch|6.7 Inch|6.8 Inch"),
    "power_wattage": ("Style", True, "20W|30W|45W|65W|100W|120W"),
    "color_home": ("Color", False, "White|Black|Grey|Rustic Brown|Walnut|Espresso|Natural|Navy Blue|Teal|Beige|"
                   "Gold|Black/Gold|White/Oak|Sage Green|Blush Pink|Mustard Yellow|Cream|Charcoal Grey|"
                   "Light Grey|Terracotta"),
    "size_pillow": ("Size", True, "12 x 20 Inch|16 x 16 Inch|18 x 18 Inch|20 x 20 Inch|22 x 22 Inch|24 x 24 Inch"),
    "size_curtain": ("Size", True, "42 x 63 Inch|52 x 63 Inch|52 x 84 Inch|52 x 95 Inch|52 x 108 Inch|"
                     "100 x 84 Inch"),
    "size_bed": ("Size", True, "Twin|Twin XL|Full|Queen|King|California King"),
    "size_rug": ("Size", True, "2 x 3 Feet|3 x 5 Feet|4 x 6 Feet|5 x 7 Feet|6 x 9 Feet|8 x 10 Feet|9 x 12 Feet"),
    "size_art": ("Size", True, "12 x 16 Inch|16 x 24 Inch|20 x 30 Inch|24 x 36 Inch|32 x 48 Inch|"
                 "12 x 16 Inch x 3 Panels|16 x 24 Inch x 3 Panels"),
    "size_furniture": ("Size", True, "31.5 Inch|39.4 Inch|47.2 Inch|55 Inch|63 Inch|70.9 Inch"),
    "size_mirror": ("Size", True, "20 Inch Round|24 Inch Round|30 Inch Round|24 x 36 Inch|22 x 65 Inch"),
    "size_storage": ("Size", True, "Small|Medium|Large|X-Large|Set of 2|Set of 3|Set of 4|Set of 6"),
    "size_towel": ("Size", True, "Washcloth|Hand Towel|Bath Towel|Bath Sheet|6 Piece Set|8 Piece Set|12 Piece Set"),
    "size_planter": ("Size", True, "4 Inch|6 Inch|8 Inch|10 Inch|12 Inch|14 Inch|6/8/10 Inch Set"),
    "size_cookware": ("Size", True, "8 Inch|10 Inch|12 Inch|8/10 Inch|10 Piece Set|12 Piece Set|15 Piece Set"),
    "material_type": ("Material Type", False, "Solid Wood|Metal|Glass|Ceramic|Bamboo|Rattan|Velvet|Linen|"
                      "Faux Leather|Marble"),
    "style_home": ("Style", False, "Modern|Farmhouse|Rustic|Mid Century|Industrial|Boho|Traditional|Coastal|"
                   "Glam|Scandinavian"),
    "color_light": ("Color", False, "Black|Brushed Nickel|Gold|Matte Black|Oil Rubbed Bronze|Chrome|White|"
                    "Brass|Black/Gold|Antique Bronze"),
    "scent": ("Scent", False, "Lavender|Vanilla|Eucalyptus Mint|Fresh Linen|Coconut|Unscented|Rose|Sandalwood|"
              "Citrus|Ocean Breeze|Lavender/Vanilla|Pumpkin Spice|Cedarwood|Jasmine|Apple Cinnamon"),
    "size_floz": ("Size", True, "1 Fl Oz (Pack of 1)|1.7 Fl Oz (Pack of 1)|3.4 Fl Oz (Pack of 1)|"
                  "6.8 Fl Oz (Pack of 1)|8 Fl Oz (Pack of 1)|16.9 Fl Oz (Pack of 1)|8 Fl Oz (Pack of 2)|"
                  "12 Fl Oz (Pack of 3)"),
    "size_oz": ("Size", True, "0.5 Ounce (Pack of 1)|1 Ounce (Pack of 1)|2.6 Ounce (Pack of 1)|"
                "4 Ounce (Pack of 1)|6 Ounce (Pack of 2)|8 Ounce (Pack of 1)|16 Ounce (Pack of 1)|"
                "3.4 Ounce (Pack of 3)"),
    "flavor_mint": ("Flavor Name", False, "Fresh Mint|Spearmint|Cool Mint|Cinnamon|Strawberry|Charcoal Mint|"
                    "Peppermint|Bubble Gum|Wintergreen"),
    "shade": ("Color", False, "Nude|Ruby Red|Coral|Mauve|Berry|Natural Beige|Warm Ivory|Sand|Honey|Espresso|"
              "Pink|Clear|Porcelain|Golden Tan|Cocoa|Rose Petal|Plum|Cherry Red"),
    "hair_color": ("Color", False, "Natural Black|1B Off Black|2 Darkest Brown|4 Medium Brown|613 Blonde|"
                   "Ombre Brown/Blonde|Burgundy|Ash Blonde|Honey Blonde|Silver Grey"),
    "hair_length": ("Size", True, "10 Inch|12 Inch|14 Inch|16 Inch|18 Inch|20 Inch|22 Inch|24 Inch|26 Inch|"
                    "28 Inch|30 Inch"),
    "count": ("Size", True, "50 Count|100 Count|200 Count|300 Count|500 Count|1000 Count"),
    "color_beauty_tool": ("Color", False, "Black|White|Pink|Rose Gold|Purple|Blue|Mint Green|Champagne Gold|"
                          "Grey|Black/Gold"),
    "flavor_sweet": ("Flavor Name", False, "Vanilla|Chocolate|Strawberry|Caramel|Peanut Butter|Cookies & Cream|"
                     "Salted Caramel|Mint Chocolate|Birthday Cake|Cinnamon|Mixed Berry|Dark Chocolate|Coconut|"
                     "Lemon"),
    "flavor_savory": ("Flavor Name", False, "Original|Sea Salt|Barbecue|Sour Cream & Onion|Jalapeno|"
                      "Salt & Vinegar|White Cheddar|Spicy|Teriyaki|Black Pepper|Garlic Herb|Sweet Chili|"
                      "Smoky Chipotle"),
    "flavor_drink": ("Flavor Name", False, "Original|Lemon|Peach|Mango|Raspberry|Black Cherry|Lime|Mixed Berry|"
                     "Unsweetened|Watermelon|Grapefruit|Pomegranate|Ginger|Tropical Punch"),
    "flavor_coffee": ("Flavor Name", False, "Medium Roast|Dark Roast|French Roast|Breakfast Blend|Hazelnut|"
                      "Vanilla|Decaf|Colombian|Espresso Roast|Light Roast|Caramel|Mocha"),
    "flavor_tea": ("Flavor Name", False, "Green Tea|Chamomile|Peppermint|Earl Grey|Jasmine|English Breakfast|"
                   "Lemon Ginger|Hibiscus|Chai|Matcha|Rooibos|Oolong"),
    "flavor_nut": ("Flavor Name", False, "Roasted & Salted|Honey Roasted|Unsalted|Smoked|Chili Lime|Cinnamon|"
                   "Sea Salt & Pepper|Raw|Dark Chocolate|Wasabi & Soy"),
    "flavor_sauce": ("Flavor Name", False, "Original|Hot|Mild|Smoky|Garlic|Habanero|Honey Mustard|"
                     "Sweet & Spicy|Chipotle|Ranch|Sriracha|Lemon Pepper"),
    "flavor_fruit": ("Flavor Name", False, "Apple|Banana|Pear|Mango|Blueberry|Strawberry Banana|Apple Cinnamon|"
                     "Peach|Sweet Potato|Carrot|Pear/Spinach"),
    "size_grocery": ("Size", True, "1.5 Ounce (Pack of 24)|2 Ounce (Pack of 12)|4 Ounce (Pack of 6)|"
                     "6 Ounce (Pack of 4)|8 Ounce (Pack of 2)|12 Ounce (Pack of 1)|16 Ounce (Pack of 1)|"
                     "1 Pound (Pack of 2)|2 Pound (Pack of 1)|5 Pound (Pack of 1)"),
    "size_drink": ("Size", True, "8 Fl Oz (Pack of 24)|11.1 Fl Oz (Pack of 12)|12 Fl Oz (Pack of 12)|"
                   "16 Fl Oz (Pack of 12)|33.8 Fl Oz (Pack of 6)|1 Gallon (Pack of 2)"),
    "size_count_grocery": ("Size", True, "12 Count|20 Count|24 Count|36 Count|48 Count|72 Count|100 Count"),
}


# ----- product types ----------------------------------------------------------------------
@dataclass(frozen=True)
class ProductType:
    """One kind of product: everything a product of this kind is drawn from.

    ``nouns`` are the type's title noun phrases (the first is the canonical one), ``human``
    the names shoppers use for it, ``attributes`` its own attribute pool (shared pools are
    added per category), ``options`` the keys of its option dimensions in display order.
    """

    category: str
    query: str
    product_category: str
    nouns: tuple[str, ...]
    human: tuple[str, ...]
    attributes: tuple[str, ...]
    options: tuple[str, ...]
    price: tuple[float, float]
    gender: str = ""  # "men" / "women" for fashion types: titles say "Men's ..."


_CSJ = "Clothing, Shoes & Jewelry"
_EL = "Electronics"
_CP = "Cell Phones & Accessories"
_HK = "Home & Kitchen"
_TH = "Tools & Home Improvement"
_BP = "Beauty & Personal Care"
_GG = "Grocery & Gourmet Food"

# (query, product_category, nouns, human names, attributes, options, (min, max) price[, gender])
_TYPE_TABLE: dict[str, list[tuple]] = {
    "fashion": [
        ("men's shorts", f"{_CSJ} › Men › Clothing › Shorts",
         "cargo shorts|chino shorts|hiking shorts|athletic shorts|board shorts|gym shorts",
         "shorts|men's shorts|cargo shorts|shorts for men",
         "quick dry|elastic waistband|drawstring closure|relaxed fit|zipper pockets|button closure|cotton blend|"
         "stretch fabric", "color_apparel size_apparel", (12, 45), "men"),
        ("men's t-shirts & tanks", f"{_CSJ} › Men › Clothing › Shirts › Tees & Tanks",
         "graphic tee|crew neck t-shirt|tank top|muscle tank|pocket tee|v neck t-shirt",
         "t-shirt|tee shirt|men's t-shirt|tank top for men",
         "short sleeve|classic fit|raglan sleeve|durable stitching|heather fabric|lightweight fabric|graphic print|"
         "crew neck", "color_apparel size_apparel fit_type", (8, 30), "men"),
        ("men's casual button-down shirts", f"{_CSJ} › Men › Clothing › Shirts › Button-Down Shirts",
         "button down shirt|flannel shirt|oxford shirt|linen shirt|hawaiian shirt|denim shirt",
         "button down shirt|casual shirt for men|flannel shirt|dress shirt",
         "long sleeve|button closure|regular fit|slim fit|wrinkle free|chest pocket|turn down collar|soft flannel",
         "color_apparel size_apparel", (15, 50), "men"),
        ("men's jeans", f"{_CSJ} › Men › Clothing › Denim › Jeans",
         "straight leg jeans|slim jeans|relaxed jeans|denim jeans|bootcut jeans|tapered jeans",
         "jeans|men's jeans|pair of jeans|denim pants",
         "straight leg|zip fly|stretch denim|five pocket|belt loops|classic denim|mid rise|button closure",
         "color_apparel size_jeans", (20, 70), "men"),
        ("men's pants", f"{_CSJ} › Men › Clothing › Pants",
         "chino pants|cargo pants|jogger pants|work pants|dress pants|sweatpants",
         "pants|men's pants|joggers|trousers for men",
         "elastic waist|drawstring closure|straight leg|flat front|side pockets|tapered fit|stretch fabric|"
         "everyday wear", "color_apparel size_waist", (18, 60), "men"),
        ("men's hoodies & sweatshirts", f"{_CSJ} › Men › Clothing › Hoodies & Sweatshirts",
         "pullover hoodie|zip hoodie|crewneck sweatshirt|fleece hoodie|sweatshirt|quarter zip pullover",
         "hoodie|sweatshirt|men's hoodie|pullover for men",
         "long sleeve|kangaroo pocket|fleece lining|ribbed cuffs|drawstring hood|soft fleece|cold weather",
         "color_apparel size_apparel", (20, 60), "men"),
        ("men's jackets & coats", f"{_CSJ} › Men › Clothing › Jackets & Coats",
         "windbreaker jacket|bomber jacket|rain jacket|puffer jacket|fleece jacket|softshell jacket|winter coat",
         "jacket|men's jacket|winter coat|rain jacket",
         "water resistant|zipper closure|winter warm|detachable hood|windproof shell|zip pockets|fleece lined|"
         "packable design", "color_apparel size_apparel", (30, 150), "men"),
        ("men's underwear", f"{_CSJ} › Men › Clothing › Underwear",
         "boxer briefs|trunks|boxers|briefs|long leg boxer briefs",
         "boxer briefs|underwear for men|men's underwear|boxers",
         "moisture wicking|tagless comfort|cotton stretch|contour pouch|no ride|comfort waistband|breathable mesh",
         "color_apparel size_apparel item_package_quantity", (12, 45), "men"),
        ("men's socks", f"{_CSJ} › Men › Clothing › Socks",
         "crew socks|ankle socks|dress socks|athletic socks|wool socks|compression socks",
         "socks|men's socks|crew socks|dress socks",
         "cushioned sole|arch support|moisture wicking|reinforced heel|seamless toe|merino wool|odor control",
         "color_apparel size_socks item_package_quantity", (8, 30), "men"),
        ("men's sneakers", f"{_CSJ} › Men › Shoes › Sneakers",
         "running shoes|walking shoes|sneakers|trail running shoes|tennis shoes|slip on sneakers",
         "sneakers|running shoes|men's sneakers|walking shoes",
         "rubber sole|lace up|memory foam|breathable mesh|non slip|arch support|lightweight design|"
         "shock absorption", "color_apparel size_shoe_men", (30, 120), "men"),
        ("men's loafers & slip-ons", f"{_CSJ} › Men › Shoes › Loafers",
         "loafers|penny loafers|driving moccasins|slip on shoes|boat shoes",
         "loafers|slip on shoes|men's loafers|moccasins",
         "rubber sole|genuine leather|slip resistant|rubber outsole|padded insole|hand stitched|casual dress",
         "color_apparel size_shoe_men", (30, 110), "men"),
        ("men's boots", f"{_CSJ} › Men › Shoes › Boots",
         "work boots|chelsea boots|hiking boots|combat boots|chukka boots|snow boots",
         "boots|work boots|men's boots|hiking boots",
         "steel toe|water resistant|rubber sole|lace up|slip resistant|genuine leather|ankle support|oil resistant",
         "color_apparel size_shoe_men", (50, 200), "men"),
        ("men's watches", f"{_CSJ} › Men › Watches › Wrist Watches",
         "wrist watch|chronograph watch|dress watch|diver watch|field watch",
         "watch|wrist watch|men's watch|analog watch",
         "water resistant|stainless steel|quartz movement|leather band|luminous hands|date display|"
         "scratch resistant|sapphire crystal", "color_apparel style_generic", (25, 250), "men"),
        ("women's dresses", f"{_CSJ} › Women › Clothing › Dresses › Casual Dresses",
         "maxi dress|midi dress|wrap dress|sundress|cocktail dress|shift dress|bodycon dress|swing dress",
         "dress|summer dress|women's dress|maxi dress",
         "short sleeve|v neck|high waist|flowy hem|elastic waist|side pockets|knee length|party wedding",
         "color_women size_apparel", (20, 70), "women"),
        ("women's tops, tees & blouses", f"{_CSJ} › Women › Clothing › Tops, Tees & Blouses",
         "blouse|tunic top|tank top|tee shirt|peplum top|button down blouse",
         "blouse|top for women|women's tunic top|casual shirt",
         "short sleeve|long sleeve|loose fit|v neck|tunic length|casual blouse|flowy fabric|round neck",
         "color_women size_apparel", (12, 40), "women"),
        ("women's jeans", f"{_CSJ} › Women › Clothing › Denim › Jeans",
         "skinny jeans|mom jeans|bootcut jeans|straight jeans|high rise jeans|flare jeans",
         "jeans|women's jeans|skinny jeans|high waisted jeans",
         "high waist|stretch denim|lifting effect|slim fit|five pocket|ankle length|zip fly|distressed denim",
         "color_women size_women_num", (20, 70), "women"),
        ("women's leggings", f"{_CSJ} › Women › Clothing › Leggings",
         "leggings|yoga pants|workout leggings|capri leggings|fleece leggings",
         "leggings|yoga pants|workout leggings",
         "high waist|tummy control|squat proof|buttery soft|side pockets|moisture wicking|full length|"
         "compression fit", "color_women size_apparel", (12, 40), "women"),
        ("women's lingerie, sleep & lounge", f"{_CSJ} › Women › Clothing › Lingerie, Sleep & Lounge",
         "pajama set|nightgown|lounge set|robe|bralette|sleep shirt|satin pajamas",
         "pajama set|pajamas|sleepwear for women|nightgown|lounge set",
         "soft fabric|long sleeve|button front|elastic waistband|lace lingerie|lace trim|relaxed fit|"
         "breathable fabric", "color_women size_apparel", (15, 55), "women"),
        ("women's socks & hosiery", f"{_CSJ} › Women › Socks & Hosiery",
         "tights|no show socks|knee high socks|pantyhose|ankle socks|thigh high stockings",
         "socks|tights|pantyhose|women's socks",
         "non slip|control top|run resistant|cushioned sole|sheer finish|silicone grip|breathable cotton",
         "color_women size_socks item_package_quantity", (8, 30), "women"),
        ("women's sweaters", f"{_CSJ} › Women › Clothing › Sweaters",
         "cardigan|pullover sweater|turtleneck sweater|knit sweater|cable knit sweater|sweater vest",
         "sweater|cardigan|women's sweater|knit sweater",
         "long sleeve|chunky knit|open front|drop shoulder|ribbed trim|soft knit|oversized fit|cold weather",
         "color_women size_apparel", (20, 60), "women"),
        ("women's coats, jackets & vests", f"{_CSJ} › Women › Clothing › Coats, Jackets & Vests",
         "trench coat|puffer jacket|denim jacket|faux fur coat|quilted vest|peacoat|shacket",
         "coat|jacket|winter coat for women|puffer vest",
         "faux fur|winter warm|zipper closure|water resistant|detachable hood|double breasted|fleece lined|"
         "button closure", "color_women size_apparel", (30, 140), "women"),
        ("women's pumps", f"{_CSJ} › Women › Shoes › Heels & Pumps",
         "pumps|stiletto heels|block heels|kitten heels|high heels|slingback pumps",
         "heels|pumps|high heels|women's pumps",
         "pointed toe|high heel|rubber sole|padded insole|ankle strap|closed toe|patent leather|party wedding",
         "color_women size_shoe_women", (25, 110), "women"),
        ("women's sandals", f"{_CSJ} › Women › Shoes › Sandals & Slides",
         "slide sandals|flip flops|wedge sandals|platform sandals|gladiator sandals|strappy sandals",
         "sandals|flip flops|women's sandals|slides",
         "open toe|arch support|ankle strap|rubber sole|cushioned footbed|non slip|adjustable strap|"
         "beach vacation", "color_women size_shoe_women", (15, 70), "women"),
        ("women's slippers", f"{_CSJ} › Women › Shoes › House Slippers",
         "house slippers|moccasin slippers|slide slippers|fuzzy slippers|bootie slippers",
         "slippers|house shoes|women's slippers|fuzzy slippers",
         "memory foam|faux fur|non slip|indoor outdoor|rubber sole|plush lining|machine washable|anti skid",
         "color_women size_shoe_women", (12, 45), "women"),
        ("women's swimsuits & cover ups", f"{_CSJ} › Women › Clothing › Swimsuits & Cover Ups",
         "one piece swimsuit|bikini set|tankini|swim dress|cover up|high waisted bikini",
         "swimsuit|bathing suit|bikini|women's swimwear",
         "tummy control|padded cups|adjustable straps|quick dry|high waisted|removable padding|"
         "chlorine resistant|beach vacation", "color_women size_apparel", (18, 55), "women"),
        ("women's handbags", f"{_CSJ} › Women › Handbags & Wallets › Shoulder Bags",
         "tote bag|crossbody bag|shoulder bag|clutch purse|hobo bag|satchel",
         "handbag|purse|tote bag|crossbody bag for women",
         "vegan leather|zipper closure|adjustable strap|large capacity|multiple pockets|gold hardware|"
         "faux leather|everyday use", "color_women style_generic", (20, 90), "women"),
    ],
    "electronics": [
        ("hdmi cables", f"{_EL} › Accessories & Supplies › Audio & Video Accessories › Cables › HDMI Cables",
         "hdmi cable|hdmi cord|hdmi extension cable|micro hdmi cable|fiber optic hdmi cable",
         "hdmi cable|hdmi cord|cable for my tv",
         "high speed|gold plated|braided cable|ultra hd|ethernet channel|audio return|dynamic hdr|plug play",
         "cable_length color_tech item_package_quantity", (6, 40)),
        ("headphones", f"{_EL} › Headphones, Earbuds & Accessories › Headphones",
         "wireless headphones|over ear headphones|noise cancelling headphones|earbuds|wireless earbuds|"
         "gaming headset", "headphones|wireless earbuds|bluetooth headphones|headset",
         "noise cancelling|wireless bluetooth|battery life|hifi stereo|hands free|deep bass|charging case|"
         "sweat resistant", "color_tech style_tech", (15, 250)),
        ("bluetooth speakers",
         f"{_EL} › Portable Audio › Speakers › Bluetooth Speakers",
         "bluetooth speaker|portable speaker|waterproof speaker|party speaker|smart speaker",
         "bluetooth speaker|portable speaker|speaker",
         "wireless bluetooth|stereo sound|waterproof design|battery life|deep bass|usb charging|hands free|"
         "outdoor party", "color_tech style_tech", (15, 180)),
        ("digital cameras", f"{_EL} › Camera & Photo › Digital Cameras",
         "digital camera|mirrorless camera|point and shoot camera|vlogging camera|instant camera|camera",
         "digital camera|camera|vlogging camera|camera for photography",
         "optical zoom|image stabilization|high resolution|4k video|flip screen|wifi transfer|face detection|"
         "memory card", "color_tech style_tech", (60, 900)),
        ("lenses", f"{_EL} › Camera & Photo › Lenses › Camera Lenses",
         "camera lens|telephoto lens|wide angle lens|prime lens|macro lens|zoom lens",
         "camera lens|lens|telephoto lens",
         "auto focus|image stabilization|optical glass|lens hood|fast aperture|weather sealed|full frame|"
         "manual focus", "style_tech color_tech", (40, 800)),
        ("flashes", f"{_EL} › Camera & Photo › Lighting & Studio › Flashes",
         "speedlite flash|camera flash|ring light|led video light|flash kit",
         "camera flash|speedlite|ring light|flash for my camera",
         "high speed|wireless trigger|ttl metering|rechargeable battery|adjustable brightness|color temperature|"
         "hot shoe|quick recycling", "style_tech color_tech", (20, 250)),
        ("tripods & monopods", f"{_EL} › Camera & Photo › Tripods & Monopods › Tripods",
         "tripod|monopod|phone tripod|travel tripod|selfie stick tripod|video tripod",
         "tripod|camera tripod|phone tripod|monopod",
         "aluminum alloy|ball head|quick release|carrying bag|phone holder|remote control|light weight|"
         "adjustable height", "color_tech style_tech", (15, 180)),
        ("projectors", f"{_EL} › Television & Video › Projectors › Video Projectors",
         "video projector|mini projector|portable projector|home theater projector|outdoor projector|projector",
         "projector|movie projector|mini projector",
         "full hd|wifi bluetooth|native 1080p|home theater|keystone correction|screen mirroring|stereo speaker|"
         "hdmi port", "style_tech color_tech", (60, 900)),
        ("projection screens", f"{_EL} › Television & Video › Projector Screens",
         "projector screen|projection screen|portable screen|motorized screen|outdoor screen",
         "projector screen|screen for projector|movie screen",
         "wrinkle free|easy setup|wall mounted|ultra hd|wide viewing|foldable design|stand included|gain fabric",
         "screen_fabric style_tech", (25, 300)),
        ("televisions", f"{_EL} › Television & Video › Televisions › Smart TVs",
         "smart tv|led tv|qled tv|television|4k uhd tv|oled tv",
         "tv|smart tv|television",
         "ultra hd|smart tv|high definition|voice remote|dolby vision|hdmi ports|game mode|wall mount",
         "screen_size style_tech", (120, 1500)),
        ("tv mounts",
         f"{_EL} › Television & Video › Accessories › TV Mounts, Stands & Turntables › TV Wall Mounts",
         "tv wall mount|tv mount|full motion tv mount|tv bracket|ceiling tv mount",
         "tv wall mount|tv mount|wall bracket for tv",
         "full motion|easy install|heavy duty|tilt swivel|wall mount|cable management|vesa compatible|"
         "stud mounting", "mount_fit item_package_quantity", (15, 120)),
        ("vcrs", f"{_EL} › Television & Video › VCRs",
         "vcr player|vhs player|vcr dvd combo|video cassette recorder|vhs to dvd recorder",
         "vcr|vhs player|vcr player|video cassette player",
         "remote control|composite cables|easy connect|video transfer|digital tuner|plug play|rca cables|"
         "auto rewind", "style_tech color_tech", (60, 400)),
        ("remote controls", f"{_EL} › Television & Video › Accessories › Remote Controls",
         "remote control|universal remote|replacement remote|tv remote|voice remote",
         "remote control|tv remote|replacement remote",
         "replacement remote|batteries included|easy setup|voice control|backlit buttons|learning function|"
         "infrared signal", "item_package_quantity color_tech", (6, 40)),
        ("sound bars", f"{_EL} › Home Audio › Sound Bars & Speakers › Sound Bars",
         "sound bar|soundbar|soundbar with subwoofer|surround sound bar|tv speaker",
         "sound bar|soundbar|tv speaker",
         "surround sound|wireless subwoofer|dolby atmos|wall mountable|optical input|hdmi arc|"
         "bluetooth connectivity|dialogue enhancement", "color_tech style_tech", (50, 600)),
        ("home theater systems", f"{_EL} › Home Audio › Home Theater Systems",
         "home theater system|av receiver|surround sound system|speaker system|subwoofer",
         "home theater system|surround sound system|speakers for my living room",
         "surround sound|home theater|wireless subwoofer|remote control|bluetooth streaming|hdmi input|"
         "power cord|bass boost", "style_tech color_tech", (100, 1200)),
        ("usb cables",
         f"{_EL} › Computers & Accessories › Cables & Accessories › Cables & Interconnects › USB Cables",
         "usb c cable|charging cable|usb cable|data cable|fast charging cable|usb c to usb c cable",
         "charging cable|usb c cable|charger cable",
         "fast charging|data sync|braided nylon|usb type|tangle free|high speed|aluminum connector",
         "cable_length color_tech item_package_quantity", (6, 30)),
        ("chargers & power adapters", f"{_CP} › Chargers › Wall Chargers & Adapters",
         "wall charger|power adapter|car charger|charging station|usb c charger|wireless charger",
         "charger|wall charger|phone charger|power adapter",
         "fast charging|usb port|dual port|wireless charging|foldable plug|overheat protection|compact design",
         "power_wattage color_tech item_package_quantity", (8, 60)),
        ("power banks", f"{_CP} › Accessories › Portable Power Banks",
         "power bank|portable charger|battery pack|solar power bank|magnetic battery pack",
         "power bank|portable charger|battery pack",
         "fast charging|usb port|high capacity|led display|compact size|airline approved|dual output|"
         "wireless charging", "color_tech style_tech", (15, 80)),
        ("cell phone cases", f"{_CP} › Cases & Covers › Phone Cases",
         "phone case|wallet case|clear case|rugged case|silicone case|magnetic case",
         "phone case|case for my phone|wallet case",
         "shockproof protection|card holder|wireless charging|raised edges|slim fit|drop protection|"
         "kickstand design|scratch resistant", "phone_size color_tech", (6, 35)),
        ("screen protectors", f"{_CP} › Accessories › Screen Protectors",
         "screen protector|tempered glass screen protector|privacy screen protector|camera lens protector|"
         "glass protector", "screen protector|tempered glass|privacy screen protector",
         "tempered glass|bubble free|case friendly|easy installation|hd clear|anti fingerprint|scratch resistant|"
         "touch sensitive", "phone_size item_package_quantity", (5, 20)),
        ("tablets", f"{_EL} › Computers & Accessories › Tablets",
         "tablet|android tablet|kids tablet|drawing tablet|tablet pc",
         "tablet|android tablet|tablet for kids",
         "quad core|octa core|ips display|battery life|parental controls|expandable storage|dual camera|"
         "wifi bluetooth", "storage_capacity color_tech", (50, 400)),
        ("computer keyboards", f"{_EL} › Computers & Accessories › Keyboards, Mice & Accessories › Keyboards",
         "keyboard|mechanical keyboard|wireless keyboard|gaming keyboard|keyboard and mouse combo|"
         "ergonomic keyboard", "keyboard|wireless keyboard|mechanical keyboard|keyboard for my computer",
         "rgb backlit|wireless connection|quiet typing|anti ghosting|mechanical switches|ergonomic design|"
         "usb receiver|full size", "color_tech style_tech", (20, 150)),
        ("computer mice", f"{_EL} › Computers & Accessories › Keyboards, Mice & Accessories › Mice",
         "wireless mouse|gaming mouse|mouse|vertical mouse|bluetooth mouse|trackball mouse",
         "mouse|wireless mouse|computer mouse|gaming mouse",
         "ergonomic design|adjustable dpi|silent click|usb receiver|rechargeable battery|rgb lighting|plug play|"
         "programmable buttons", "color_tech item_package_quantity", (10, 80)),
        ("monitors", f"{_EL} › Computers & Accessories › Monitors",
         "computer monitor|gaming monitor|monitor|curved monitor|portable monitor|ultrawide monitor",
         "monitor|computer monitor|gaming monitor|screen for my computer",
         "refresh rate|ips panel|full hd|eye care|vesa mount|hdmi port|response time|adaptive sync",
         "screen_size style_tech", (90, 700)),
        ("memory cards", f"{_EL} › Computers & Accessories › Data Storage › Memory Cards › Micro SD Cards",
         "memory card|micro sd card|sd card|microsdxc card|cf card",
         "memory card|micro sd card|sd card",
         "high speed|sd adapter|4k video|read speed|class 10|shock proof|temperature proof|water proof",
         "storage_capacity item_package_quantity", (6, 90)),
        ("security cameras", f"{_EL} › Camera & Photo › Video Surveillance › Surveillance Cameras",
         "security camera|surveillance camera|doorbell camera|wifi camera|outdoor camera|baby monitor camera",
         "security camera|outdoor camera|home camera|doorbell camera",
         "night vision|motion detection|two way|cloud storage|weather resistant|wifi connection|1080p resolution|"
         "person detection", "item_package_quantity color_tech", (20, 250)),
        ("car electronics", f"{_EL} › Car & Vehicle Electronics › Car Electronics",
         "dash cam|car stereo|backup camera|car radio|car bluetooth adapter|fm transmitter",
         "dash cam|car stereo|backup camera|car radio",
         "night vision|loop recording|wide angle|g sensor|parking mode|touch screen|hands free|easy install",
         "style_tech color_tech", (20, 300)),
        ("routers", f"{_EL} › Computers & Accessories › Networking Products › Routers",
         "wifi router|mesh wifi system|range extender|wireless router|gaming router|access point",
         "router|wifi router|mesh wifi|wifi extender",
         "dual band|wifi 6|parental controls|gigabit ports|easy setup|wide coverage|external antennas|app control",
         "style_tech item_package_quantity", (25, 350)),
    ],
    "garden": [
        ("console tables", f"{_HK} › Furniture › Living Room › Tables › Console Tables",
         "console table|sofa table|entryway table|hallway table|narrow table",
         "console table|sofa table|entryway table|table for my hallway",
         "living room|storage shelf|solid wood|metal frame|easy assemble|rustic finish|open shelf|"
         "entryway furniture", "color_home size_furniture", (60, 600)),
        ("coffee tables", f"{_HK} › Furniture › Living Room › Tables › Coffee Tables",
         "coffee table|lift top coffee table|cocktail table|round coffee table|nesting tables",
         "coffee table|table for living room|round coffee table",
         "living room|lift top|hidden storage|solid wood|tempered glass|easy assemble|metal legs|mid century",
         "color_home style_home", (50, 500)),
        ("end tables", f"{_HK} › Furniture › Living Room › Tables › End & Side Tables",
         "end table|side table|nightstand|accent table|bedside table",
         "end table|side table|nightstand|small table",
         "living room|charging station|storage drawer|easy assemble|small spaces|metal frame|solid wood|"
         "bedroom furniture", "color_home item_package_quantity", (25, 200)),
        ("mattresses", f"{_HK} › Furniture › Bedroom › Mattresses",
         "memory foam mattress|hybrid mattress|mattress|innerspring mattress|latex mattress|mattress in a box",
         "mattress|memory foam mattress|bed mattress",
         "memory foam|high density|pressure relief|cooling gel|medium firm|pocket springs|motion isolation|"
         "certipur certified", "size_bed mattress_thickness", (150, 1500)),
        ("bed frames", f"{_HK} › Furniture › Bedroom › Beds & Frames",
         "bed frame|platform bed|upholstered bed|metal bed frame|storage bed|canopy bed",
         "bed frame|platform bed|bed",
         "metal frame|box spring|storage space|wood slats|easy assemble|noise free|upholstered headboard",
         "size_bed color_home", (90, 800)),
        ("dining sets", f"{_HK} › Furniture › Dining Room › Table & Chair Sets",
         "dining table set|kitchen table set|dining chairs|counter height table set|bistro set",
         "dining table set|kitchen table and chairs|dining set",
         "dining room|solid wood|faux leather|small spaces|easy assemble|padded seat|metal legs|space saving",
         "color_home number_of_items", (120, 900)),
        ("office chairs", f"{_HK} › Furniture › Office › Chairs › Desk Chairs",
         "office chair|desk chair|gaming chair|ergonomic chair|executive chair|task chair",
         "office chair|desk chair|gaming chair|chair for my office",
         "lumbar support|home office|adjustable height|high back|mesh back|swivel wheels|padded armrests|"
         "heavy duty", "color_home style_generic", (60, 450)),
        ("bookcases", f"{_HK} › Furniture › Office › Bookcases & Shelves",
         "bookcase|bookshelf|ladder shelf|cube organizer|corner shelf|etagere",
         "bookcase|bookshelf|shelving unit",
         "storage space|home office|living room|open shelves|anti tip|easy assemble|engineered wood|"
         "industrial style", "color_home size_storage", (40, 350)),
        ("tv stands", f"{_HK} › Furniture › Living Room › Television Stands & Entertainment Centers",
         "tv stand|entertainment center|media console|tv console|floating tv stand",
         "tv stand|entertainment center|media console",
         "living room|storage cabinet|cable management|led lights|sliding doors|farmhouse style|open storage|"
         "engineered wood", "color_home size_furniture", (70, 600)),
        ("ottomans", f"{_HK} › Furniture › Living Room › Ottomans",
         "storage ottoman|ottoman|footstool|pouf|ottoman bench|foot rest",
         "ottoman|footrest|pouf|storage ottoman",
         "faux leather|storage space|living room|non slip|folding design|easy install|velvet fabric|padded seat",
         "color_home size_storage", (30, 250)),
        ("wall art", f"{_HK} › Home Décor › Wall Art",
         "canvas wall art|wall art|canvas print|framed art print|metal wall art|poster",
         "wall art|canvas painting|art for my wall|wall decor",
         "ready hang|living room|home decor|framed canvas|bedroom decor|bathroom decor|gallery wrapped|wall decor",
         "size_art style_home", (20, 250)),
        ("decorative pillows", f"{_HK} › Home Décor › Pillows & Throws › Pillow Covers",
         "throw pillow covers|decorative pillow|cushion cover|lumbar pillow|throw pillows|pillow shams",
         "throw pillow covers|pillow covers|decorative pillows|cushions for my couch",
         "living room|hidden zipper|double sided|machine washable|home decor|soft velvet|spot clean|"
         "farmhouse style", "color_home size_pillow item_package_quantity", (10, 60)),
        ("window coverings", f"{_HK} › Home Décor › Window Treatments › Curtains",
         "blackout curtains|curtain panels|roller shades|blinds|sheer curtains|valance",
         "curtains|blackout curtains|window curtains|blinds",
         "living room|blackout lining|thermal insulated|grommet top|noise reducing|machine washable|rod pocket|"
         "light filtering", "color_home size_curtain", (15, 120)),
        ("decorative mirrors", f"{_HK} › Home Décor › Mirrors › Wall Mirrors",
         "wall mirror|round mirror|vanity mirror|floor mirror|full length mirror|arched mirror",
         "wall mirror|mirror|full length mirror",
         "wall mounted|metal frame|living room|shatter proof|bathroom vanity|home decor|entryway decor|hd glass",
         "color_home size_mirror", (30, 300)),
        ("candles", f"{_HK} › Home Décor › Candles › Scented Candles",
         "scented candle|jar candle|soy candle|candle gift set|pillar candles|tealight candles",
         "candle|scented candles|soy candle",
         "soy wax|long lasting|lead free|burn time|essential oils|aromatherapy candles|great gift|cotton wick",
         "scent item_package_quantity", (8, 50)),
        ("sconces", f"{_TH} › Lighting › Wall Lights › Wall Sconces",
         "wall sconce|wall light|sconce|wall lamp|plug in sconce|vanity light",
         "wall sconce|wall light|sconces for my hallway",
         "light fixture|glass shade|bathroom vanity|bedroom decor|easy install|dimmable light|plug cord|"
         "bronze finish", "color_light item_package_quantity", (20, 200)),
        ("table lamps", f"{_TH} › Lighting › Lamps › Table Lamps",
         "table lamp|bedside lamp|desk lamp|nightstand lamp|touch lamp",
         "table lamp|bedside lamp|lamp",
         "usb port|touch control|fabric shade|dimmable light|living room|bedroom decor|bulb included|"
         "reading light", "color_light item_package_quantity", (20, 150)),
        ("ceiling lights", f"{_TH} › Lighting › Ceiling Lights",
         "ceiling light|pendant light|chandelier|flush mount light|semi flush mount|light fixture",
         "ceiling light|chandelier|pendant light|light fixture",
         "light fixture|dining room|dimmable led|easy install|glass shade|farmhouse style|brushed nickel|"
         "kitchen island", "color_light item_package_quantity", (30, 400)),
        ("vanities", f"{_TH} › Kitchen & Bath Fixtures › Bathroom Fixtures › Bathroom Vanities",
         "bathroom vanity|vanity cabinet|vanity with sink|vanity set|floating vanity",
         "bathroom vanity|vanity|vanity cabinet",
         "solid wood|ceramic sink|soft close|storage space|quartz top|wall mounted|easy assemble|bathroom vanity",
         "color_home size_furniture", (150, 1500)),
        ("area rugs", f"{_HK} › Home Décor › Area Rugs, Runners & Pads › Area Rugs",
         "area rug|runner rug|rug|shag rug|washable rug|outdoor rug",
         "rug|area rug|runner|carpet for my living room",
         "non slip|living room|machine washable|low pile|stain resistant|soft touch|non shedding|pet friendly",
         "size_rug color_home", (20, 300)),
        ("comforters & sets", f"{_HK} › Bedding › Comforters & Duvets › Comforter Sets",
         "comforter set|duvet cover set|bed sheets|quilt set|bedspread|sheet set",
         "comforter|bedding set|duvet cover|sheets",
         "machine washable|soft microfiber|all season|down alternative|breathable fabric|deep pocket|"
         "corner ties|hypoallergenic fill", "size_bed color_home", (25, 150)),
        ("bath towels", f"{_HK} › Bath › Towels › Bath Towels",
         "bath towels|towel set|hand towels|bath sheets|washcloths",
         "towels|bath towels|towel set",
         "highly absorbent|quick dry|ring spun|turkish cotton|machine washable|soft touch|lint free|"
         "hotel quality", "color_home size_towel", (15, 80)),
        ("storage baskets", f"{_HK} › Storage & Organization › Baskets, Bins & Containers › Storage Baskets",
         "storage basket|storage bins|laundry basket|wicker basket|fabric bins|cube storage bins",
         "storage basket|storage bins|basket|laundry basket",
         "foldable design|sturdy handles|closet organizer|woven design|large capacity|cube storage|"
         "collapsible bins|fabric storage", "color_home size_storage", (10, 60)),
        ("artificial plants & flowers", f"{_HK} › Home Décor › Artificial Plants & Flowers",
         "artificial plants|fake flowers|faux plant|artificial tree|silk flowers|faux eucalyptus",
         "fake plants|artificial flowers|faux plant|artificial tree",
         "uv resistant|realistic look|home decor|potted plant|indoor outdoor|no maintenance|wedding decor|"
         "office decor", "color_home size_planter item_package_quantity", (10, 150)),
        ("patio furniture sets",
         "Patio, Lawn & Garden › Patio Furniture & Accessories › Patio Furniture Sets › Conversation Sets",
         "patio furniture set|outdoor conversation set|patio chairs|bistro set|outdoor sectional|rattan chairs",
         "patio furniture|outdoor furniture set|patio chairs",
         "weather resistant|all weather|cushions included|steel frame|rattan wicker|easy assemble|backyard porch|"
         "rust proof", "color_home number_of_items", (120, 1200)),
        ("planters",
         "Patio, Lawn & Garden › Gardening & Lawn Care › Pots, Planters & Container Accessories › Planters",
         "planter pot|flower pot|hanging planter|ceramic planter|raised garden bed|plant stand",
         "planter|plant pot|flower pots|pots for my plants",
         "drainage hole|indoor plants|outdoor garden|saucer included|modern design|succulent planter|"
         "weather resistant|ceramic glaze", "color_home size_planter", (10, 120)),
        ("cookware sets", f"{_HK} › Kitchen & Dining › Cookware › Cookware Sets",
         "cookware set|pots and pans set|frying pan|nonstick pan|dutch oven|skillet",
         "pots and pans|cookware set|frying pan|nonstick pan",
         "non stick|dishwasher safe|oven safe|induction compatible|stainless steel|pfoa free|even heating|"
         "cool touch", "color_home size_cookware", (25, 400)),
    ],
    "beauty": [
        ("makeup remover", f"{_BP} › Makeup › Removers & Cleansers",
         "makeup remover|micellar water|cleansing balm|makeup remover wipes|cleansing oil|makeup remover pads",
         "makeup remover|micellar water|makeup wipes",
         "eye makeup|sensitive skin|oil free|gentle cleansing|waterproof makeup|fragrance free|reusable pads|"
         "dermatologist tested", "size_floz number_of_items", (5, 35)),
        ("toothpaste", f"{_BP} › Oral Care › Toothpaste & Gels",
         "toothpaste|whitening toothpaste|fluoride toothpaste|tooth gel|charcoal toothpaste|kids toothpaste",
         "toothpaste|whitening toothpaste|tooth paste",
         "fresh breath|oral hygiene|fluoride free|sensitive teeth|teeth whitening|natural ingredients|"
         "enamel protection|cavity protection", "flavor_mint size_oz item_package_quantity", (3, 25)),
        ("toothbrushes", f"{_BP} › Oral Care › Toothbrushes & Accessories › Toothbrushes",
         "toothbrush|electric toothbrush|toothbrush heads|bamboo toothbrush|sonic toothbrush|kids toothbrush",
         "toothbrush|electric toothbrush|toothbrushes",
         "oral hygiene|soft bristles|rechargeable battery|travel case|fresh breath|sensitive gums|smart timer|"
         "eco friendly", "color_beauty_tool item_package_quantity", (4, 90)),
        ("hair loss products", f"{_BP} › Hair Care › Hair Loss Products",
         "hair growth serum|hair growth oil|biotin shampoo|hair regrowth treatment|scalp serum|"
         "hair growth vitamins", "hair growth serum|hair loss treatment|hair growth oil",
         "hair growth|hair loss|thinning hair|natural ingredients|rosemary oil|scalp care|dry hair|biotin formula",
         "size_floz item_package_quantity", (10, 60)),
        ("shampoo & conditioner", f"{_BP} › Hair Care › Shampoo & Conditioner › Sets",
         "shampoo|conditioner|shampoo and conditioner set|clarifying shampoo|leave in conditioner|purple shampoo",
         "shampoo|conditioner|shampoo and conditioner",
         "sulfate free|paraben free|dry hair|color treated|hair care|natural hair|argan oil|curly hair",
         "size_floz scent", (6, 45)),
        ("hair extensions, wigs & accessories", f"{_BP} › Hair Care › Wigs & Extensions › Wigs",
         "lace front wig|wig|hair extensions|clip in extensions|ponytail extension|hair topper|hair bundles",
         "wig|hair extensions|lace front wig|clip in hair",
         "human hair|natural looking|heat resistant|lace front|synthetic hair|high quality|straight hair|"
         "body wave", "hair_color hair_length", (15, 250)),
        ("hair styling tools", f"{_BP} › Hair Care › Styling Tools & Appliances",
         "hair dryer|blow dryer|hair straightener|curling iron|hot air brush|flat iron",
         "hair dryer|flat iron|curling iron|hair straightener",
         "ionic technology|ceramic tourmaline|fast drying|heat settings|dual voltage|auto shutoff|frizz free|"
         "salon quality", "color_beauty_tool style_tech", (15, 200)),
        ("deodorants & antiperspirants", f"{_BP} › Personal Care › Deodorants & Antiperspirants",
         "deodorant|antiperspirant|deodorant stick|natural deodorant|deodorant spray",
         "deodorant|antiperspirant|natural deodorant",
         "aluminum free|cruelty free|sweat control|long lasting|baking soda|sensitive skin|odor protection|"
         "clean scent", "scent size_oz", (4, 30)),
        ("body lotions", f"{_BP} › Skin Care › Body Care › Body Lotions",
         "body lotion|body butter|moisturizing cream|hand cream|body oil",
         "body lotion|lotion|body cream",
         "dry skin|shea butter|paraben free|non greasy|cocoa butter|sensitive skin|fast absorbing|vitamin e",
         "scent size_floz", (5, 40)),
        ("face moisturizers", f"{_BP} › Skin Care › Face Care › Moisturizers",
         "face moisturizer|face cream|night cream|gel moisturizer|day cream|eye cream",
         "face moisturizer|face cream|moisturizer",
         "fine lines|hyaluronic acid|dry skin|oily skin|anti aging|spf protection|fragrance free|dark circles",
         "size_oz item_package_quantity", (8, 90)),
        ("face serums", f"{_BP} › Skin Care › Face › Treatments & Masks › Serums",
         "face serum|vitamin c serum|hyaluronic acid serum|retinol serum|niacinamide serum",
         "face serum|vitamin c serum|serum for my face",
         "vitamin c|hyaluronic acid|fine lines|dark spots|anti aging|cruelty free|skin types|brightening formula",
         "size_floz item_package_quantity", (8, 70)),
        ("sunscreens", f"{_BP} › Skin Care › Sunscreens & Tanning Products › Sunscreens",
         "sunscreen|sunscreen lotion|sun block|mineral sunscreen|sunscreen stick|sunscreen spray",
         "sunscreen|sunblock|sunscreen lotion",
         "broad spectrum|water resistant|reef safe|zinc oxide|oil free|sensitive skin|spf 50|non greasy",
         "size_floz item_package_quantity", (6, 40)),
        ("scrubs & body treatments", f"{_BP} › Skin Care › Body › Scrubs & Body Treatments",
         "body scrub|sugar scrub|exfoliating scrub|coffee scrub|salt scrub|foot scrub",
         "body scrub|exfoliating scrub|scrub",
         "dead skin|tea tree|natural ingredients|essential oils|coconut oil|deep cleansing|soft skin|"
         "ingrown hairs", "scent size_oz", (6, 35)),
        ("bathing accessories", f"{_BP} › Skin Care › Bath & Bathing Accessories › Bathing Accessories",
         "bath sponge|loofah|shower cap|bath brush|back scrubber|bath pillow",
         "loofah|bath sponge|shower brush|bath pillow",
         "dead skin|long handle|easy clean|soft bristles|eco friendly|quick dry|exfoliating gloves|"
         "shower accessories", "color_beauty_tool item_package_quantity", (5, 30)),
        ("refillable containers", f"{_BP} › Tools & Accessories › Bags & Cases › Refillable Containers",
         "travel bottles|refillable bottles|spray bottle|travel containers|lotion dispenser|perfume atomizer",
         "travel bottles|refillable bottles|travel size containers",
         "leak proof|bpa free|easy carry|tsa approved|fine mist|silicone bottles|easy clean|travel bottles",
         "color_beauty_tool item_package_quantity", (5, 25)),
        ("cotton balls & swabs", f"{_BP} › Tools & Accessories › Cotton Balls & Swabs",
         "cotton swabs|cotton pads|cotton balls|bamboo swabs|makeup remover rounds",
         "cotton swabs|cotton pads|cotton buds",
         "eco friendly|sensitive skin|lint free|biodegradable sticks|pure cotton|double tipped|"
         "makeup application|organic cotton", "count item_package_quantity", (3, 20)),
        ("nail polish", f"{_BP} › Nail Care › Nail Color › Nail Polish",
         "nail polish|gel nail polish|nail polish set|top coat|nail lacquer|dip powder",
         "nail polish|gel polish|nail color",
         "long lasting|quick dry|glossy finish|chip resistant|gel polish|uv lamp|non toxic|nail art",
         "shade item_package_quantity", (5, 40)),
        ("lipstick", f"{_BP} › Makeup › Lip Makeup › Lipstick",
         "lipstick|liquid lipstick|lip gloss|lip stain|lip liner|lip balm",
         "lipstick|lip gloss|lip color",
         "long lasting|matte finish|lip balm|highly pigmented|cruelty free|moisturizing formula|smudge proof|"
         "nude shades", "shade item_package_quantity", (5, 35)),
        ("foundation", f"{_BP} › Makeup › Face › Foundation",
         "foundation|liquid foundation|bb cream|concealer|tinted moisturizer|powder foundation",
         "foundation|concealer|bb cream|tinted moisturizer",
         "full coverage|oil free|natural finish|long wear|matte finish|spf protection|lightweight formula|"
         "oily skin", "shade size_floz", (8, 55)),
        ("eyeshadow", f"{_BP} › Makeup › Eye Makeup › Eyeshadow",
         "eyeshadow palette|eyeshadow|eye shadow stick|glitter eyeshadow|cream eyeshadow",
         "eyeshadow palette|eye shadow|eyeshadow",
         "highly pigmented|eye makeup|long lasting|shimmer finish|matte shades|cruelty free|easy blend|"
         "travel size", "shade style_generic", (6, 50)),
        ("mascara & eyeliner", f"{_BP} › Makeup › Eye Makeup › Mascara & Eyeliner",
         "mascara|eyeliner|false eyelashes|lash serum|eyebrow pencil|lash extensions",
         "mascara|eyeliner|false lashes|eyebrow pencil",
         "smudge proof|eye makeup|long lasting|volumizing formula|natural look|easy apply|cruelty free|"
         "lash growth", "shade item_package_quantity", (5, 35)),
        ("makeup brushes & tools", f"{_BP} › Beauty Tools › Makeup Brushes › Brush Sets",
         "makeup brush set|makeup brushes|makeup sponge|blending sponge|brush cleaner|kabuki brush",
         "makeup brushes|brush set|makeup sponge",
         "synthetic bristles|soft bristles|travel case|cruelty free|easy clean|liquid foundation|face powder|"
         "high quality", "color_beauty_tool style_generic", (6, 45)),
        ("perfume & fragrance", f"{_BP} › Fragrance › For Women › Perfume",
         "eau de parfum|perfume|body mist|cologne|rollerball perfume|fragrance oil",
         "perfume|cologne|body mist|fragrance",
         "long lasting|floral notes|travel size|great gift|fresh scent|vanilla notes|woody scent|spray bottle",
         "scent size_floz", (10, 150)),
        ("shaving & hair removal", f"{_BP} › Shave & Hair Removal › Men's › Razors & Blades",
         "razor|shaving cream|electric shaver|beard trimmer|safety razor|razor blades",
         "razor|electric shaver|shaving cream|beard trimmer",
         "close shave|sensitive skin|cordless use|rechargeable battery|stainless steel|razor burn|travel lock|"
         "precision trimmer", "color_beauty_tool item_package_quantity", (6, 150)),
        ("essential oils", "Health & Household › Wellness & Relaxation › Aromatherapy › Essential Oils",
         "essential oil set|essential oil|diffuser oil|aromatherapy oil|massage oil",
         "essential oils|essential oil set|diffuser oils",
         "essential oils|pure natural|aromatherapy diffuser|therapeutic grade|tea tree|great gift|stress relief|"
         "skin care", "scent size_floz", (6, 40)),
        ("hand soap", f"{_BP} › Skin Care › Body › Cleansers › Hand Soap",
         "hand soap|liquid hand soap|bar soap|foaming hand soap|soap refill",
         "hand soap|soap|bar soap",
         "natural ingredients|essential oils|moisturizing formula|plant based|sulfate free|coconut oil|"
         "gentle cleansing|refill pouch", "scent size_floz", (4, 30)),
    ],
    "grocery": [
        ("meat & seafood", f"{_GG} › Meat & Seafood › Jerky & Dried Meats",
         "beef jerky|smoked salmon|canned tuna|meat sticks|turkey jerky|sardines",
         "jerky|beef jerky|smoked salmon|meat snacks",
         "high protein|low carb|keto friendly|grass fed|gluten free|ready eat|wild caught|natural smoke",
         "flavor_savory size_grocery", (6, 60)),
        ("beverages", f"{_GG} › Beverages › Bottled Beverages, Water & Drink Mixes",
         "sparkling water|energy drink|iced tea|sports drink|coconut water|drink mix",
         "sparkling water|energy drinks|drink|beverage",
         "zero sugar|caffeine free|natural flavors|low calorie|electrolyte blend|non gmo|real fruit|vitamin c",
         "flavor_drink size_drink", (6, 45)),
        ("coffee", f"{_GG} › Beverages › Coffee, Tea & Cocoa › Coffee",
         "ground coffee|whole bean coffee|coffee pods|instant coffee|cold brew coffee|espresso beans",
         "coffee|ground coffee|coffee beans|coffee pods",
         "medium roast|dark roast|single origin|fair trade|arabica coffee|whole bean|low acid|freshly roasted",
         "flavor_coffee size_grocery", (7, 50)),
        ("tea", f"{_GG} › Beverages › Coffee, Tea & Cocoa › Tea",
         "green tea|herbal tea|tea bags|black tea|loose leaf tea|matcha powder",
         "tea|green tea|herbal tea|tea bags",
         "caffeine free|loose leaf|tea bags|usda organic|antioxidant rich|non gmo|individually wrapped|"
         "calming blend", "flavor_tea size_count_grocery", (5, 35)),
        ("chips & crisps", f"{_GG} › Snack Foods › Chips & Crisps",
         "potato chips|tortilla chips|veggie chips|kettle chips|pita chips|plantain chips",
         "chips|potato chips|tortilla chips|snack chips",
         "gluten free|non gmo|kettle cooked|sea salt|snack packs|plant based|reduced fat|crunchy texture",
         "flavor_savory size_grocery", (3, 35)),
        ("nuts & seeds", f"{_GG} › Snack Foods › Nuts & Seeds",
         "almonds|mixed nuts|cashews|pistachios|trail mix|walnuts|sunflower seeds",
         "nuts|almonds|mixed nuts|cashews",
         "high protein|gluten free|non gmo|resealable bag|heart healthy|keto friendly|dry roasted|snack packs",
         "flavor_nut size_grocery", (5, 45)),
        ("protein & meal replacement", f"{_GG} › Beverages › Meal Replacement & Protein Drinks",
         "protein powder|protein shake|protein bars|meal replacement shake|whey protein|plant protein powder",
         "protein powder|protein shake|protein bars",
         "plant based|gluten free|dairy free|soy free|low sugar|high protein|non gmo|shelf stable",
         "flavor_sweet size_grocery", (15, 70)),
        ("cookies", f"{_GG} › Snacks & Sweets › Cookies",
         "cookies|shortbread cookies|sandwich cookies|oatmeal cookies|chocolate chip cookies|biscotti",
         "cookies|chocolate chip cookies|shortbread",
         "individually wrapped|soft baked|gluten free|real butter|great gift|nut free|vegan friendly|snack packs",
         "flavor_sweet size_grocery", (4, 40)),
        ("candy & chocolate", f"{_GG} › Snacks & Sweets › Candy & Chocolate",
         "chocolate bar|dark chocolate|gummy candy|hard candy|chocolate truffles|candy assortment",
         "chocolate|candy|gummies|chocolate bars",
         "individually wrapped|cocoa content|great gift|gluten free|sugar free|fair trade|party favors|"
         "kosher certified", "flavor_sweet size_grocery", (4, 50)),
        ("breakfast foods", f"{_GG} › Breakfast Foods › Cereals",
         "granola|breakfast cereal|oatmeal|instant oatmeal|muesli|pancake mix",
         "granola|cereal|oatmeal|breakfast cereal",
         "whole grain|high fiber|low sugar|gluten free|non gmo|plant protein|ancient grains|heart healthy",
         "flavor_sweet size_grocery", (4, 35)),
        ("pasta & noodles", f"{_GG} › Pantry Staples › Pasta & Noodles",
         "pasta|ramen noodles|spaghetti|rice noodles|egg noodles|penne pasta",
         "pasta|noodles|ramen|spaghetti",
         "gluten free|whole wheat|high protein|low carb|quick cooking|non gmo|bronze cut|authentic italian",
         "size_grocery number_of_items", (3, 35)),
        ("condiments & sauces", f"{_GG} › Pantry Staples › Condiments & Salad Dressings",
         "hot sauce|bbq sauce|salad dressing|pasta sauce|marinade|salsa",
         "hot sauce|bbq sauce|dressing|sauce",
         "gluten free|low sodium|no sugar|keto friendly|small batch|natural ingredients|non gmo|vegan friendly",
         "flavor_sauce size_grocery", (4, 30)),
        ("herbs, spices & seasonings", f"{_GG} › Pantry Staples › Herbs, Spices & Seasonings",
         "seasoning blend|spice set|sea salt|black pepper|taco seasoning|garlic powder|spice rub",
         "seasoning|spices|spice blend|salt",
         "gluten free|salt free|non gmo|no msg|kosher certified|small batch|resealable bag|great gift",
         "size_grocery number_of_items", (4, 40)),
        ("baking mixes & flours", f"{_GG} › Cooking & Baking › Baking Mixes",
         "baking mix|almond flour|cake mix|pancake mix|bread mix|brownie mix",
         "baking mix|almond flour|cake mix|flour",
         "gluten free|keto friendly|low carb|non gmo|grain free|easy make|dairy free|plant based",
         "flavor_sweet size_grocery", (4, 35)),
        ("dried fruits", f"{_GG} › Snack Foods › Dried Fruits & Vegetables",
         "dried mango|raisins|freeze dried strawberries|dried fruit mix|dates|dried apricots",
         "dried fruit|dried mango|raisins|dates",
         "no sugar|real fruit|non gmo|gluten free|freeze dried|resealable bag|healthy snack|vegan friendly",
         "size_grocery number_of_items", (5, 35)),
        ("honey & syrups", f"{_GG} › Pantry Staples › Honey, Syrups & Sweeteners",
         "raw honey|maple syrup|honey|manuka honey|agave syrup|honeycomb",
         "honey|maple syrup|raw honey",
         "pure raw|grade a|gluten free|non gmo|glass jar|squeeze bottle|natural sweetener|great gift",
         "size_grocery item_package_quantity", (6, 60)),
        ("crackers", f"{_GG} › Snack Foods › Crackers",
         "crackers|rice crackers|cheese crackers|graham crackers|seed crackers|flatbread crisps",
         "crackers|rice crackers|cheese crackers",
         "whole grain|gluten free|snack packs|non gmo|real cheese|plant based|low sodium|seed blend",
         "flavor_savory size_grocery", (3, 30)),
        ("jams, jellies & spreads", f"{_GG} › Pantry Staples › Jams, Jellies & Sweet Spreads",
         "peanut butter|almond butter|fruit spread|jam|hazelnut spread|jelly",
         "peanut butter|jam|nut butter|spread",
         "no sugar|non gmo|gluten free|natural ingredients|glass jar|squeeze packs|no stir|keto friendly",
         "flavor_sweet size_grocery", (4, 35)),
        ("cooking oils", f"{_GG} › Cooking & Baking › Oils, Vinegars & Salad Dressings › Oils",
         "olive oil|avocado oil|coconut oil|sesame oil|cooking spray|ghee",
         "olive oil|cooking oil|avocado oil|coconut oil",
         "extra virgin|cold pressed|high heat|non gmo|glass bottle|keto friendly|single origin|unrefined oil",
         "size_grocery item_package_quantity", (6, 45)),
        ("snack gift boxes", f"{_GG} › Gourmet Gifts › Snack Gifts",
         "snack box|gift basket|gourmet gift box|snack variety pack|care package|sampler box",
         "snack box|gift basket|snack variety pack|care package",
         "great gift|individually wrapped|variety pack|gift basket|holiday gift|assorted snacks|college students|"
         "birthday gift", "style_generic number_of_items", (20, 90)),
        ("baby food", f"{_GG} › Baby Foods › Snacks & Purees",
         "baby food pouches|puffs|teething wafers|baby cereal|toddler snacks|fruit puree",
         "baby food|baby snacks|food pouches for my toddler",
         "usda organic|no sugar|non gmo|bpa free|gluten free|easy squeeze|first foods|dairy free",
         "flavor_fruit number_of_items", (8, 40)),
        ("sweeteners", f"{_GG} › Cooking & Baking › Sugar Substitutes",
         "monk fruit sweetener|stevia drops|sweetener|erythritol|coconut sugar|allulose",
         "sweetener|sugar substitute|stevia|monk fruit",
         "zero calorie|keto friendly|sugar free|non gmo|glycemic index|gluten free|plant based|baking friendly",
         "size_grocery number_of_items", (5, 35)),
        ("popcorn", f"{_GG} › Snack Foods › Popcorn",
         "popcorn|microwave popcorn|popcorn kernels|kettle corn|caramel corn",
         "popcorn|microwave popcorn|kettle corn",
         "whole grain|gluten free|non gmo|movie night|snack packs|light butter|low calorie|great gift",
         "flavor_savory size_grocery", (4, 35)),
        ("soups & broths", f"{_GG} › Pantry Staples › Soups, Stocks & Broths",
         "soup|bone broth|instant soup|chicken broth|ramen cup|miso soup",
         "soup|bone broth|broth|instant soup",
         "low sodium|gluten free|ready eat|high protein|keto friendly|shelf stable|no msg|microwave ready",
         "flavor_savory size_grocery", (4, 40)),
        ("rice & grains", f"{_GG} › Dried Beans, Grains & Rice › Rice",
         "jasmine rice|quinoa|brown rice|basmati rice|wild rice|couscous",
         "rice|quinoa|jasmine rice|grains",
         "whole grain|gluten free|non gmo|long grain|microwave ready|high fiber|plant protein|bulk bag",
         "size_grocery number_of_items", (4, 40)),
    ],
}

# More attributes of each type (by query), kept apart from the table above for readability:
# larger own pools lower the chance that a same-type competitor shares a requested attribute.
_MORE_ATTRIBUTES = {
    "men's shorts": "cargo pockets|inseam length|belt loops|ripstop fabric|gym workout",
    "men's t-shirts & tanks": "tag free|preshrunk cotton|muscle fit|side seams|ribbed collar",
    "men's casual button-down shirts": "cotton poplin|spread collar|curved hem|breathable linen|plaid pattern",
    "men's jeans": "whiskered wash|dark wash|reinforced seams|tapered leg|comfort stretch",
    "men's pants": "wrinkle resistant|cargo pockets|hidden waistband|ankle cuffs|twill fabric",
    "men's hoodies & sweatshirts": "brushed fleece|full zip|thumb holes|heavyweight cotton|hooded sweatshirt",
    "men's jackets & coats": "insulated lining|storm flap|adjustable cuffs|inner pocket|stand collar",
    "men's underwear": "soft modal|wide waistband|fly front|anti chafing|quick drying",
    "men's socks": "mid calf|padded sole|blister prevention|athletic fit|non binding",
    "men's sneakers": "knit upper|padded collar|cushioned midsole|wide width|gym training",
    "men's loafers & slip-ons": "leather lining|cushioned footbed|moc toe|flexible sole|suede upper",
    "men's boots": "composite toe|lug sole|padded collar|electrical hazard|insulated lining",
    "men's watches": "analog display|chronograph function|mineral glass|deployment clasp|gift box",
    "women's dresses": "ruffle sleeve|smocked bodice|wrap style|tie waist|floral print",
    "women's tops, tees & blouses": "puff sleeve|button front|chiffon fabric|relaxed silhouette|ruffle trim",
    "women's jeans": "raw hem|skinny leg|wide leg|button fly|curvy fit",
    "women's leggings": "hidden pocket|seamless design|ankle length|opaque fabric|yoga workout",
    "women's lingerie, sleep & lounge": "satin fabric|adjustable straps|wide leg|silky smooth|lace detail",
    "women's socks & hosiery": "reinforced toe|footless design|thermal lining|comfort waistband|ribbed cuff",
    "women's sweaters": "turtle neck|cable knit|batwing sleeve|cropped length|mock neck",
    "women's coats, jackets & vests": "notched lapel|belted waist|quilted design|side pockets|thermal lining",
    "women's pumps": "block heel|almond toe|cushioned insole|slip on|wide width",
    "women's sandals": "buckle closure|platform sole|memory foam|toe loop|braided straps",
    "women's slippers": "fuzzy lining|open toe|slip on|hard sole|breathable fabric",
    "women's swimsuits & cover ups": "tie side|ruched design|underwire support|sun protection|mesh panel",
    "women's handbags": "magnetic snap|top handle|detachable strap|card slots|inner pocket",
    "hdmi cables": "18gbps bandwidth|nylon braided|flexible cable|shielded design|aluminum shell",
    "headphones": "active noise|ear cushions|foldable design|usb c|low latency",
    "bluetooth speakers": "360 sound|ipx7 waterproof|party mode|built in|bass radiator",
    "digital cameras": "optical viewfinder|touch screen|continuous shooting|interchangeable lens|rechargeable battery",
    "lenses": "stepping motor|aspherical elements|close focusing|weather resistant|portrait photography",
    "flashes": "guide number|bounce head|lithium battery|slave mode|high sync",
    "tripods & monopods": "carbon fiber|panoramic head|bubble level|center column|bluetooth remote",
    "projectors": "native resolution|lumens brightness|zoom function|low noise|ceiling mount",
    "projection screens": "black border|tripod stand|rear projection|grommet holes|matte white",
    "televisions": "hdr10 support|refresh rate|slim bezel|built wifi|streaming apps",
    "tv mounts": "tilting design|low profile|post installation|weight capacity|leveling adjustment",
    "vcrs": "vhs tapes|tape playback|front panel|av cables|dual deck",
    "remote controls": "no programming|pairing required|shortcut buttons|ergonomic grip|long range",
    "sound bars": "center channel|bass adjustment|night mode|eq modes|compact design",
    "home theater systems": "bookshelf speakers|center speaker|digital amplifier|fm radio|dvd player",
    "usb cables": "480mbps transfer|reinforced joints|right angle|long cable|pd charging",
    "chargers & power adapters": "gan technology|pd charger|multiple devices|safety certified|travel friendly",
    "power banks": "battery capacity|pass through|flashlight function|slim design|magsafe compatible",
    "cell phone cases": "military grade|soft tpu|camera protection|matte finish|lanyard hole",
    "screen protectors": "alignment frame|full coverage|9h hardness|oleophobic coating|blue light",
    "tablets": "hd display|front camera|kids mode|stylus support|long battery",
    "computer keyboards": "media keys|wrist rest|numeric keypad|spill resistant|hot swappable",
    "computer mice": "side buttons|auto sleep|smooth scrolling|optical sensor|left handed",
    "monitors": "frameless design|built speakers|tilt adjustment|low blue|anti glare",
    "memory cards": "uhs speed|write speed|data recovery|video recording|lifetime warranty",
    "security cameras": "pan tilt|siren alarm|local storage|color night|solar panel",
    "car electronics": "apple carplay|android auto|rear view|voice control|gps navigation",
    "routers": "mesh system|guest network|usb sharing|vpn support|mu mimo",
    "console tables": "narrow design|drawer storage|tempered top|x design|acacia wood",
    "coffee tables": "glass top|marble top|nesting design|storage shelf|round shape",
    "end tables": "usb ports|open shelf|flip top|nightstand drawer|compact size",
    "mattresses": "edge support|gel memory|breathable cover|fiberglass free|firm support",
    "bed frames": "headboard included|slat support|no box|under bed|center legs",
    "dining sets": "drop leaf|bench seating|extendable table|upholstered chairs|counter height",
    "office chairs": "flip armrests|headrest included|tilt lock|breathable mesh|weight capacity",
    "bookcases": "adjustable shelves|wall anchor|cube storage|corner design|tall bookshelf",
    "tv stands": "glass doors|adjustable shelves|fireplace insert|wood grain|tv console",
    "ottomans": "lift top|tufted design|wooden legs|removable lid|footrest stool",
    "wall art": "canvas prints|stretched canvas|abstract painting|wood frame|modern art",
    "decorative pillows": "invisible zipper|linen fabric|pillow insert|boho decor|cotton canvas",
    "window coverings": "room darkening|privacy protection|energy saving|sheer voile|thermal backing",
    "decorative mirrors": "round mirror|gold frame|beveled edge|floor standing|vanity mirror",
    "candles": "clean burning|wood wick|glass jar|hand poured|relaxing scent",
    "sconces": "vintage style|hardwired sconce|plug in|glass globe|edison bulb",
    "table lamps": "linen shade|ceramic base|3 way|night light|touch dimmer",
    "ceiling lights": "pendant lighting|crystal chandelier|adjustable chain|led bulbs|flush mount",
    "vanities": "undermount sink|backsplash included|soft closing|marble countertop|open shelf",
    "area rugs": "low profile|easy vacuum|fade resistant|distressed design|jute rug",
    "comforters & sets": "pillow shams|reversible design|wrinkle free|lightweight comforter|oeko tex",
    "bath towels": "100 cotton|extra absorbent|hanging loop|oversized towels|gsm weight",
    "storage baskets": "closet storage|nursery storage|shelf baskets|water hyacinth|label holders",
    "artificial plants & flowers": "fake plants|faux greenery|hanging plants|bonsai tree|plastic pot",
    "patio furniture sets": "conversation set|glass tabletop|outdoor cushions|wicker chairs|furniture covers",
    "planters": "self watering|fiberglass planter|hanging basket|bamboo planter|plant saucer",
    "cookware sets": "glass lids|granite coating|hard anodized|cast iron|stay cool",
    "makeup remover": "micellar cleansing|removes mascara|no rinse|cotton pads|makeup wipes",
    "toothpaste": "stain removal|tartar control|sls free|charcoal whitening|kids toothpaste",
    "toothbrushes": "replacement heads|pressure sensor|whitening mode|bamboo handle|medium bristles",
    "hair loss products": "hair thickening|scalp massager|caffeine shampoo|dht blocker|minoxidil free",
    "shampoo & conditioner": "color safe|volumizing shampoo|moisturizing conditioner|keratin treatment|"
                             "dandruff control",
    "hair extensions, wigs & accessories": "pre plucked|baby hair|remy hair|wig cap|glueless wig",
    "hair styling tools": "ceramic coating|cool shot|concentrator nozzle|adjustable temperature|negative ions",
    "deodorants & antiperspirants": "48 hour|odor control|invisible solid|sweat protection|coconut oil",
    "body lotions": "shea butter|24 hour|oatmeal lotion|rough skin|unscented lotion",
    "face moisturizers": "ceramides formula|day cream|night cream|non comedogenic|collagen cream",
    "face serums": "dark circles|anti wrinkle|glowing skin|niacinamide serum|retinol serum",
    "sunscreens": "tinted sunscreen|mineral sunscreen|sport sunscreen|face sunscreen|kids sunscreen",
    "scrubs & body treatments": "sugar scrub|sea salt|coffee scrub|stretch marks|body polish",
    "bathing accessories": "bath pillow|shower caddy|back scrubber|loofah sponge|bath mitt",
    "refillable containers": "spray bottles|squeeze tubes|airless pump|travel kit|glass bottles",
    "cotton balls & swabs": "paper sticks|precision tips|cotton rounds|baby swabs|ear cleaning",
    "nail polish": "gel nail|base coat|top coat|nail kit|fast drying",
    "lipstick": "lip liner|liquid lipstick|transfer proof|satin finish|lip stain",
    "foundation": "medium coverage|dewy finish|buildable coverage|pore minimizing|color correcting",
    "eyeshadow": "eyeshadow palette|neutral shades|glitter eyeshadow|blendable formula|crease proof",
    "mascara & eyeliner": "lengthening mascara|gel eyeliner|liquid eyeliner|magnetic lashes|brow pencil",
    "makeup brushes & tools": "kabuki brush|foundation brush|blending sponge|brush holder|vegan bristles",
    "perfume & fragrance": "parfum spray|citrus notes|musk scent|gift set|roll on",
    "shaving & hair removal": "shaving cream|aftershave balm|wet dry|beard trimmer|pop up",
    "essential oils": "lavender oil|peppermint oil|carrier oil|glass dropper|gift set",
    "hand soap": "foaming soap|antibacterial formula|aloe vera|pump bottle|kitchen soap",
    "meat & seafood": "beef jerky|wild salmon|pasture raised|no nitrates|meat sticks",
    "beverages": "sparkling water|cane sugar|vitamin d|natural caffeine|fruit juice",
    "coffee": "k cup|cold brew|ground coffee|coffee beans|organic coffee",
    "tea": "herbal tea|green tea|black tea|tea sampler|gift tin",
    "chips & crisps": "potato chips|avocado oil|family size|no preservatives|baked chips",
    "nuts & seeds": "raw almonds|mixed nuts|salted cashews|trail mix|unsalted nuts",
    "protein & meal replacement": "grass fed|meal replacement|whey protein|low fat|muscle recovery",
    "cookies": "chocolate chip|gift tin|butter cookies|oatmeal raisin|family size",
    "candy & chocolate": "milk chocolate|gummy candy|hard candy|valentines day|bulk candy",
    "breakfast foods": "steel cut|instant oatmeal|granola clusters|high protein|kids cereal",
    "pasta & noodles": "egg noodles|ramen noodles|durum wheat|chickpea pasta|rice noodles",
    "condiments & sauces": "hot sauce|bbq sauce|salad dressing|squeeze bottle|spicy sauce",
    "herbs, spices & seasonings": "spice blend|sea salt|black pepper|taco seasoning|grill seasoning",
    "baking mixes & flours": "almond flour|cake mix|pancake mix|bread flour|coconut flour",
    "dried fruits": "dried mango|freeze dried|dates fruit|unsulfured apricots|banana chips",
    "honey & syrups": "raw honey|maple syrup|manuka honey|agave nectar|honey comb",
    "crackers": "rice crackers|cheese crackers|whole wheat|seed crackers|snack crackers",
    "jams, jellies & spreads": "peanut butter|almond butter|strawberry jam|fruit spread|hazelnut spread",
    "cooking oils": "olive oil|avocado oil|coconut oil|spray bottle|cooking spray",
    "snack gift boxes": "snack box|care package|variety snacks|gift box|office snacks",
    "baby food": "baby snacks|teething wafers|fruit puree|veggie blend|toddler snacks",
    "sweeteners": "monk fruit|stevia extract|erythritol blend|brown sugar|liquid sweetener",
    "popcorn": "microwave popcorn|kettle corn|movie theater|caramel corn|popcorn kernels",
    "soups & broths": "bone broth|chicken broth|vegetable soup|instant soup|collagen broth",
    "rice & grains": "jasmine rice|basmati rice|brown rice|wild rice|instant rice",
}

# Attributes shared across the types of a category, and across all categories: they make
# products of different types compete for the same attribute words.
_SHARED_ATTRIBUTES = {
    "fashion": "machine wash|hand wash|wash cold|long sleeve|short sleeve|slim fit|regular fit|loose fit|"
               "classic fit|relaxed fit|elastic waist|button closure|daily wear|polyester spandex|cotton spandex|"
               "soft material|rubber sole|non slip|quick dry|moisture wicking|tumble dry|light weight",
    "electronics": "high speed|high definition|plug play|remote control|hands free|noise cancelling|"
                   "wireless bluetooth|usb port|fast charging|power cord|carrying case|ultra hd|stereo sound|"
                   "dual band|gold plated|optical zoom|high resolution|touch screen|wall mount|easy setup|easy install|"
                   "heavy duty|light weight|durable construction|easy carry",
    "garden": "living room|dining room|home office|easy assemble|assembly required|solid wood|metal frame|"
              "storage space|home decor|wall mounted|high density|non slip|mid century|stainless steel|"
              "tempered glass|faux leather|ready hang|spot clean|bedroom decor|space saving|easy install|heavy duty|"
              "easy clean|non toxic|durable construction",
    "beauty": "sensitive skin|dry skin|oily skin|cruelty free|paraben free|sulfate free|natural ingredients|"
              "essential oils|hair growth|dry hair|fine lines|dead skin|travel size|fresh breath|tea tree|"
              "coconut oil|hyaluronic acid|alcohol free|fragrance free|skin care|non toxic|easy carry",
    "grocery": "gluten free|non gmo|sugar free|low carb|keto friendly|dairy free|plant based|high protein|"
               "low calorie|artificial colors|real fruit|whole grain|usda organic|ready eat|shelf stable|"
               "individually wrapped|resealable bag|low sodium|nut free|soy free|caffeine free|vegan friendly",
}
_GLOBAL_ATTRIBUTES = "high quality|easy use|long lasting|eco friendly|great gift"

# How an attribute reads in a sentence: before the noun ("gluten free chips"), after "for"
# ("for sensitive skin") or after "with" (the rest: "with remote control").
_PRE_LAST_WORDS = set("free friendly proof resistant lasting quality fit dry safe soft sleeve waist wash washable "
                      "speed duty weight use clean install assemble carry based sleeve roast grain roasted baked "
                      "wrapped stable gmo certified approved plated sealed cooked tested absorbent pigmented "
                      "firm motion season rise front length leg neck toe heel back size healthy mountable".split())
_PRE_FIRST_WORDS = set("easy non high low long short quick full zero anti extra light super slim loose classic "
                       "relaxed regular heavy fast dual double ultra single hd medium fair raw pure small large "
                       "soft wireless waterproof rechargeable adjustable organic natural sugar salt gluten dairy "
                       "nut soy grass wild cold freshly".split())
_FOR_LAST_WORDS = set("skin room office hair wear teeth gums spaces decor breath hygiene party vacation students "
                      "night lines spots circles theater aging hairs weather wedding care vanity".split())
# clauses for attributes that fit none of the patterns
_ATTRIBUTE_CLAUSES = {"great gift": "that makes a great gift", "birthday gift": "as a birthday gift",
                      "holiday gift": "as a holiday gift", "gift basket": "as a gift basket",
                      "college students": "for college students", "movie night": "for movie night"}


def _attribute_kind(attr: str) -> str:
    if attr in _ATTRIBUTE_CLAUSES:
        return "clause"
    first, _, last = attr.partition(" ")
    if last in _FOR_LAST_WORDS:
        return "for"
    if last in _PRE_LAST_WORDS or first in _PRE_FIRST_WORDS:
        return "pre"
    return "with"


# How shoppers reword attributes. The search engine stems, so "easy to install" still finds
# "easy install": only other words make a request miss the attribute's products. An entry
# starting with that/with/for/without/which is a clause; others take the attribute's place.
_SHOPPER_WORDS = {
    "machine wash": ("washer safe", "that i can wash in the washer", "machine washable"),
    "machine washable": ("that i can throw in the washer", "washer safe"),
    "hand wash": ("that needs gentle washing",),
    "long lasting": ("durable", "that lasts a long time", "long-wearing"),
    "high quality": ("well made", "good quality", "sturdy"),
    "easy use": ("simple to use", "user friendly"),
    "easy clean": ("simple to wipe down", "that cleans up easily"),
    "easy install": ("simple to mount", "that i can put up myself", "tool free"),
    "easy assemble": ("simple to put together", "that i can put together myself"),
    "easy carry": ("portable", "that is handy to take along"),
    "easy setup": ("simple to get running", "plug and go"),
    "eco friendly": ("sustainable", "environmentally friendly", "earth friendly"),
    "great gift": ("that would make a nice present",),
    "non slip": ("anti skid", "grippy", "that won't slide"),
    "quick dry": ("fast drying", "that dries fast"),
    "moisture wicking": ("sweat wicking", "that keeps me dry"),
    "water resistant": ("waterproof", "rainproof", "that can handle rain"),
    "light weight": ("lightweight", "not heavy"),
    "heavy duty": ("sturdy", "strong", "rugged"),
    "slim fit": ("fitted", "slim cut"),
    "relaxed fit": ("loose fitting", "comfortable fitting", "roomy"),
    "loose fit": ("baggy", "loose fitting"),
    "classic fit": ("regular cut", "standard fitting"),
    "regular fit": ("standard fitting", "regular cut"),
    "long sleeve": ("long sleeved", "with long arms"),
    "short sleeve": ("short sleeved",),
    "elastic waist": ("stretchy waist", "with a stretchy waistband"),
    "elastic waistband": ("stretchy waistband",),
    "drawstring closure": ("with a draw string", "with a tie waist"),
    "button closure": ("with buttons", "buttoned"),
    "zipper closure": ("with a zip", "zippered"),
    "rubber sole": ("with rubber soles", "with a rubber bottom"),
    "arch support": ("with good foot support", "supportive"),
    "memory foam": ("with a foam cushion", "cushioned"),
    "daily wear": ("for everyday", "for wearing every day"),
    "everyday wear": ("for everyday", "for casual days"),
    "faux fur": ("fuzzy", "with fake fur"),
    "winter warm": ("warm for winter", "for cold days"),
    "high waist": ("high rise", "high waisted"),
    "tummy control": ("shaping", "slimming"),
    "stainless steel": ("with a steel body", "made of steel"),
    "tempered glass": ("with glass", "with a glass top"),
    "solid wood": ("real wood", "wooden", "made of wood"),
    "metal frame": ("with a metal base", "with iron legs"),
    "faux leather": ("vegan leather", "pu leather", "leatherette"),
    "living room": ("for my lounge", "for the family room"),
    "dining room": ("for my dining area",),
    "home office": ("for working from home", "for my study"),
    "small spaces": ("for my tiny apartment", "for a small apartment"),
    "storage space": ("with room to store things", "with storage"),
    "space saving": ("compact",),
    "home decor": ("decorative",),
    "wall mounted": ("that hangs on the wall",),
    "ready hang": ("that comes ready to hang",),
    "high speed": ("fast", "high bandwidth"),
    "high definition": ("hd", "crisp picture"),
    "ultra hd": ("4k", "uhd"),
    "full hd": ("1080p",),
    "remote control": ("with a remote",),
    "hands free": ("that i can use without hands",),
    "noise cancelling": ("that blocks outside noise", "noise blocking"),
    "wireless bluetooth": ("cordless bluetooth", "cable free"),
    "fast charging": ("that charges quickly", "quick charge"),
    "battery life": ("with a battery that lasts all day", "long battery"),
    "plug play": ("plug and go",),
    "usb port": ("with a usb socket",),
    "power cord": ("with a power cable",),
    "carrying case": ("with a travel bag", "with a case"),
    "stereo sound": ("great sounding", "with rich audio"),
    "night vision": ("that sees in the dark",),
    "motion detection": ("that detects movement", "motion alerts"),
    "sensitive skin": ("for delicate skin", "for easily irritated skin"),
    "dry skin": ("for dehydrated skin", "for flaky skin"),
    "oily skin": ("for greasy skin", "for shiny skin"),
    "cruelty free": ("not tested on animals", "vegan friendly"),
    "paraben free": ("without parabens", "with no parabens"),
    "sulfate free": ("without sulfates", "with no sulfates"),
    "fragrance free": ("unscented", "without perfume"),
    "alcohol free": ("without alcohol",),
    "natural ingredients": ("all natural", "made from plants", "clean"),
    "essential oils": ("with plant oils", "aromatic"),
    "hair growth": ("for thicker hair", "that helps my hair grow"),
    "hair loss": ("for thinning hair", "for shedding hair"),
    "dry hair": ("for frizzy hair", "for brittle hair"),
    "fine lines": ("for wrinkles", "anti wrinkle"),
    "dead skin": ("exfoliating", "for rough skin"),
    "fresh breath": ("for bad breath", "breath freshening"),
    "oral hygiene": ("for healthy teeth", "for my teeth"),
    "travel size": ("mini", "small enough for travel"),
    "gluten free": ("celiac safe", "without gluten", "wheat free"),
    "non gmo": ("gmo free", "without gmos"),
    "sugar free": ("unsweetened", "with no added sugar", "without sugar"),
    "low carb": ("keto", "low in carbs"),
    "keto friendly": ("keto", "for my keto diet", "low carb"),
    "dairy free": ("lactose free", "without milk"),
    "plant based": ("vegan", "made from plants"),
    "high protein": ("protein packed", "packed with protein"),
    "low calorie": ("light", "diet"),
    "usda organic": ("organic", "certified organic"),
    "individually wrapped": ("in single packs", "separately packed"),
    "resealable bag": ("in a zip bag", "resealable"),
    "low sodium": ("low salt", "without much salt"),
    "caffeine free": ("decaf", "without caffeine"),
    "vegan friendly": ("vegan", "suitable for vegans"),
    "shelf stable": ("that keeps in the pantry", "non perishable"),
    "whole grain": ("wholegrain", "made with whole wheat"),
    "real fruit": ("made with actual fruit",),
    "ready eat": ("ready to eat", "no cooking needed"),
    "snack packs": ("in small bags", "single serve"),
}


# ----- title, description and bullet vocabulary --------------------------------------------
_BRANDS = {
    "fashion": "Northpeak|Urban Loom|Fenwick & Rowe|Velora|Trailhawk|Denmore|Ashby Lane|Kinsley|Brightwear|"
               "Quillon|Havenly|Stitchery|Ridgeway Outfitters|Lumara|Zenvia|Kaldor|Mirelle|Tessaro|Bravik|"
               "Solenne|Oakhurst|Pellamy|Vantrell|Cormac & Co|Saltmarsh|Brisa|Ondine|Halvard|Juniper Row|Tovani",
    "electronics": "Voltix|Nexbeam|Auralink|Lumetra|Kovix|Zyntrek|Orbisound|Pixelmoor|Tenvex|Quorra|Brightlink|"
                   "Soniq Labs|Camvista|Helion|Arcwave|Syncora|Maxtrel|Vividax|Corelux|Trevon|Ampvio|Zentra|"
                   "Lensor|Nuvolt|Optiqa|Wavecrest|Gigabay|Rexlane",
    "garden": "Hearthwood|Maple Hollow|Casa Verde|Linden & Oak|Brookline Home|Tidewell|Stonebridge|Willowmere|"
              "Cedar Crest|Elmhurst Living|Nordhaven|Copperfield|Sunhaven|Amberlea|Rivermont|Greystead|Oakleaf Co|"
              "Harbor Lane|Birchwell|Terrano|Fernside|Glenmoor|Lakehouse Living|Ashgrove",
    "beauty": "Lumiere Botanics|Purelle|Dewbloom|Skinnova|Velvetine|Aurabelle|Glowhaus|Nectara|Bellacore|"
              "Silkara|Florisse|Clarava|Verdant Skin|Oceanne|Radianza|Mirabloom|Calmea|Sereni|Tressa|Brilla|"
              "Noelle Beauty|Evercalm|Zenara|Lushwell",
    "grocery": "Harvest Lane|Golden Acre|Wildroot|Prairie Mill|Sunny Orchard|Bramble & Bee|Old Kettle|"
               "Meadowbrook|Cascade Farms|Red Barn Pantry|True North Foods|Little Fig|Sierra Valley|Hillcrest|"
               "Copper Pot|Bluebird Kitchen|Sprout & Stem|Maple Grove|Coastal Pantry|Nutwise|Crisp Creek|"
               "Homestead Provisions",
}
_MODIFIERS = {
    "fashion": "Casual|Classic|Lightweight|Slim Fit|Relaxed Fit|Quick Dry|Stretch|Vintage|Summer|Winter|Soft|"
               "Cotton|Breathable|Cozy|Oversized|Athletic|Outdoor|Basic|Premium|Essential|Elegant|Retro|Fashion|"
               "Solid Color|Loose|Comfy|Warm|Sports|Everyday|Trendy",
    "electronics": "Upgraded|Portable|Wireless|Professional|Compact|Ultra Slim|High Speed|Smart|Mini|Heavy Duty|"
                   "Rechargeable|Universal|Latest|Durable|Digital|Premium|Advanced|Newest|Waterproof|Ergonomic",
    "garden": "Modern|Rustic|Farmhouse|Mid Century|Industrial|Boho|Vintage|Minimalist|Luxury|Elegant|Decorative|"
              "Large|Small|Round|Rectangular|Wooden|Handmade|Contemporary|Scandinavian|Coastal|Velvet|Metal",
    "beauty": "Natural|Organic|Professional|Gentle|Hydrating|Nourishing|Vegan|Travel Size|Deep|Daily|Advanced|"
              "Luxury|Clinical Strength|Ultra|Pure|Premium|Moisturizing|Lightweight|Long Lasting|Waterproof",
    "grocery": "Organic|Natural|Premium|Gourmet|Classic|Original|Artisan|Homestyle|Crunchy|Savory|Sweet|Roasted|"
               "Healthy|Authentic|Whole|Fresh|Handcrafted|Small Batch|Family Size|Value Pack",
}
_FEATURES = {
    "fashion": "with Pockets|with Zipper Pockets|with Drawstring|with Elastic Waist|with Hood|with Button Closure|"
               "with Belt|with Lace Trim|with Side Slits|with Padded Insole|with Arch Support|with Pocket",
    "electronics": "with Remote Control|with Carrying Case|with USB Port|with Bluetooth|with Microphone|"
                   "with Charging Cable|with Wall Adapter|with LED Indicator|with Mounting Kit|with Memory Card|"
                   "with Noise Reduction|with Stand",
    "garden": "with Storage|with Drawers|with Shelves|with Metal Legs|with Hidden Compartment|with Cushions|"
              "with Hooks|with Handles|with Gift Box|with LED Lights|with Glass Shade|with Wood Frame",
    "beauty": "with Vitamin E|with Aloe Vera|with Argan Oil|with Shea Butter|with Tea Tree Oil|"
              "with Hyaluronic Acid|with Collagen|with Coconut Oil|with Charcoal|with Travel Pouch|"
              "with Rose Water|with Jojoba Oil",
    "grocery": "with Sea Salt|with Real Fruit|with Almonds|with Honey|in Resealable Bag|with Dark Chocolate|"
               "with Protein|with Vitamins|with Whole Grains|with No Added Sugar|with Cane Sugar|with Olive Oil",
}
_USES = {
    "fashion": "for Gym Running Hiking|for Beach Vacation|for Office Work|for Party Club|for Travel|"
               "for Daily Wear|for Fall Winter|for Spring Summer|for Casual Outings|for Workout",
    "electronics": "for TV Laptop Monitor|for Home Office|for Gaming|for Travel|for Car|for Outdoor|"
                   "for PC Computer|for Phone Tablet|for Home Theater|for Kids Adults",
    "garden": "for Living Room|for Bedroom|for Entryway Hallway|for Home Office|for Dining Room|for Bathroom|"
              "for Patio Garden|for Kitchen|for Small Spaces|for Apartment",
    "beauty": "for Women|for Men|for Dry Skin|for Sensitive Skin|for All Skin Types|for Travel|"
              "for Face and Body|for Daily Use|for Curly Hair|for Oily Skin",
    "grocery": "for Snacking|for Breakfast|for Kids and Adults|for Office|for Cooking and Baking|for Parties|"
               "for Lunch Boxes|for Gift Giving|for Keto Diet|for Road Trips",
}
_MATERIALS = {
    "fashion": "cotton|polyester|cotton blend|nylon spandex|linen|denim|fleece|rayon|genuine leather|suede|"
               "wool blend|modal",
    "electronics": "aluminum alloy|ABS plastic|tempered glass|silicone|stainless steel|braided nylon|polycarbonate",
    "garden": "solid wood|engineered wood|powder coated metal|tempered glass|velvet|linen fabric|rattan|ceramic|"
              "marble|bamboo|polyester",
    "beauty": "plant extracts|natural oils|aloe vera|shea butter|vitamin E|glycerin|medical grade silicone|bamboo|"
              "BPA free plastic",
    "grocery": "simple ingredients|real fruit|premium nuts|whole grains|cocoa|sea salt|cane sugar|spring water",
}

# Title templates (slots: B brand, G "Men's"/"Women's", W "Men"/"Women", M modifier, N the
# product's type noun, n a second type noun, A one of its attributes, F feature phrase,
# U usage phrase, S spec, V one of its option values (S when it has none)).
_TITLE_TEMPLATES = {
    "fashion": ["{B} {G} {M} {N}, {M} {n} {F}", "{B} {G} {N} {A} {M} {n} {F}", "{G} {M} {N} {A} {n} {F} {U}",
                "{B} {M} {N} for {W} {A} {F}", "{G} {N} {M} {A} {n},{V}", "{B} {G} {A} {N} {U}",
                "{G} {N} {M} {n} {G} {M} {N} {U}"],
    "electronics": ["{B} {S} {N}, {M} {A} {n} {F} {U}", "{B} {N} {S} - {A} {n} {F}, {M} {U}",
                    "{M} {N} {S}, {A} {n} {F} {U}", "{B} {M} {N} {F}, {A} {U}", "{B} {A} {N} {S} {U}",
                    "{N} {M} {n} {S} {N} {U} {M} {n}"],
    "garden": ["{B} {M} {N} {F}, {A} {n} {U}", "{B} {N} {M} {n} {U} - {A} {F}", "{M} {N}, {A} {M} {n} {F} {U}, {V}",
               "{B} {S} {M} {N} {U}", "{B} {A} {N} {F} {U}", "{M} {N} {n} {U} {M} {N} {F}"],
    "beauty": ["{B} {M} {N} {U}, {A} {n} {F} - {S}", "{B} {N} {F} - {A} {M} {n} {U}", "{M} {N} {U} {A} {n} {S}",
               "{B} {A} {N} {F}, {S}", "{N} {M} {n} {U} {N} {S}"],
    "grocery": ["{B} {M} {N}, {A}, {S}", "{B} {N} {F} - {A} {M} {n}, {S}", "{M} {N} by {B}, {A} {n} {U}, {S}",
                "{B} {A} {M} {N} {S}", "{M} {N} {n} {U} {N} {S}"],
}

# Description sentences; fields: brand, noun, a, b (attributes), mat, use, feat, year.
_DESCRIPTION_SENTENCES = {
    "all": [
        "Our {noun} is designed with {a} and {b} in mind.",
        "Each order ships with one {noun}, carefully packed to arrive in perfect condition.",
        "A thoughtful gift idea {use}.",
        "If you have any questions about your {noun}, please contact us and we will reply within 24 hours.",
        "Made of {mat}, it is built to last through years of use.",
        "Key features: {a}, {b} and a clean, simple design.",
        "{brand} has been making quality goods since {year}.",
        "Ideal {use}.",
        "Thousands of customers choose {brand} for {a}.",
        "We test every {noun} for {b} before it leaves our warehouse.",
        "Looking for a {noun}? Our {noun} is the {noun} for you.",
        "Best {noun} for the price: compare our {noun} with any other {noun}.",
    ],
    "fashion": [
        "Please check the size chart in the images before ordering; measurements may vary by 1-2 cm.",
        "Colors may look slightly different because of monitor settings and lighting.",
        "This {noun} pairs {a} with {b}, so it is easy to wear from morning to night.",
        "The {mat} fabric feels soft against the skin and keeps its shape after washing.",
        "Dress it up with loafers or keep it casual with sneakers, perfect {use}.",
        "Care instructions: {a}, do not bleach, hang to dry.",
    ],
    "electronics": [
        "Setup takes minutes: plug it in, pair it and you are ready to go.",
        "Compatible with most TVs, laptops, tablets and game consoles.",
        "The {noun} supports {a} and {b} for a smoother everyday experience.",
        "A {mat} housing protects the internal components from bumps and drops.",
        "Backed by an 18-month warranty and lifetime technical support.",
        "Note: adapters and batteries are sold separately unless listed in the package contents.",
    ],
    "garden": [
        "Setup is simple, and everything you need comes in the box.",
        "The {noun} brings warmth and character to any room, with {a} and {b}.",
        "Quality {mat} holds up to daily use while staying easy to care for.",
        "Mix and match with other pieces from the collection to complete your space.",
        "Measurements are listed in the images; please check them before ordering.",
        "Perfect {use}, it blends with farmhouse, modern and traditional decor alike.",
    ],
    "beauty": [
        "Formulated with {mat} to support {a} and {b}.",
        "Dermatologist reviewed and free from harsh additives.",
        "Apply a small amount to clean skin and massage gently until absorbed.",
        "Patch test before first use; discontinue if irritation occurs.",
        "Our {noun} is suitable for daily use and gentle enough {use}.",
        "Not tested on animals; packaged in recyclable materials.",
    ],
    "grocery": [
        "Made with {mat} and nothing artificial.",
        "Enjoy it straight from the bag or add it to your favorite recipes.",
        "Every batch of our {noun} is checked for taste and freshness.",
        "Store in a cool, dry place and reseal after opening.",
        "A smart pick {use}, with {a} and {b}.",
        "Produced in a facility that also handles tree nuts, milk and wheat.",
    ],
}
# Bullets; fields as above plus A (an attribute in capitals), spec.
_BULLETS = {
    "all": [
        "{A}: The {noun} offers {a} and {b} for everyday use. ",
        "PREMIUM QUALITY: Made of {mat}, built for {a}. ",
        "WHAT YOU GET: 1 x {noun}, user guide and our friendly customer service. ",
        "GREAT GIFT: A thoughtful present {use}, with {a}. ",
        "{A}: Designed for {a}, {b} and lasting comfort. ",
        "WHY CHOOSE US: The {noun} you need, a {noun} made to last. ",
        "{brand} {noun}: Every {noun} ships fast. ",
        "SATISFACTION GUARANTEE: If you are not happy with your {noun}, contact us for a replacement or refund. ",
    ],
    "fashion": [
        "MATERIAL: {mat}, soft and breathable with {a}. ",
        "FEATURES: {a}, {b}, classic cut that works {use}. ",
        "SIZE: {spec}; please refer to the size chart before ordering. ",
        "CARE: {a}; tumble dry low or hang to dry. ",
        "Details: {b} ",
    ],
    "electronics": [
        "WIDE COMPATIBILITY: Works with TVs, laptops, monitors and consoles; {a}. ",
        "{A}: Enjoy {a} and {b} with stable performance. ",
        "SPECS: {spec}; {mat} body. ",
        "EASY SETUP: Plug and play, no drivers needed; {b}. ",
    ],
    "garden": [
        "SPECIFICATIONS: {spec}; made of {mat}. ",
        "{A}: Perfect {use}, with {a} and {b}. ",
        "EASY SETUP: Everything you need is in the box; {b}. ",
        "BUILT TO LAST: Quality {mat} for {a}. ",
    ],
    "beauty": [
        "KEY INGREDIENTS: {mat} for {a} and {b}. ",
        "{A}: Suitable {use}; {b}. ",
        "SIZE: {spec}. ",
        "HOW TO USE: Apply to clean skin or hair daily; {a}. ",
    ],
    "grocery": [
        "WHAT'S INSIDE: {spec}; made with {mat}. ",
        "{A}: {a} and {b}, with no artificial preservatives. ",
        "GREAT TASTE: A smart choice {use}. ",
        "QUALITY: {a}; packed fresh in small batches. ",
    ],
}

# Words of the vocabulary that spaCy would not tag NOUN/PROPN (adjectives, verbs, function
# words, colour words); every other token of a title phrase without digits counts as a noun.
_NOT_NOUNS = set("""
a an and the of for with in on to by from at as or no not off over up one x &
absorbent absorbing adaptive added adjustable advanced all ancient anti apply approved arched artificial assemble
assorted athletic authentic auto backlit baked basic biodegradable braided breasted breathable brightening broad
brushed bubble buttery calming cancelling casual certified chunky clarifying classic clean clear clinical close
closed coastal collapsible comfy compact compatible composite connect contemporary cooked cool cooling cordless cozy
crunchy curly curved cushioned daily darkest dead decorative deep detachable digital dimmable distressed double down
dried dry dual durable easy elastic electric elegant engineered ergonomic essential even everyday exfoliating
expandable external extra fair false fast faux fed filtering fine firm first five flat floating flowy foldable
folding framed free fresh freshly friendly full fuzzy gentle genuine glam glossy great greasy handcrafted handmade
hanging hard healthy heavy herbal hidden high highly hot human hydrating hypoallergenic iced included indoor
individually industrial instant insulated ionic italian kosher large lasting latest leave light lightweight lined
liquid long looking loose low luminous luxury magnetic make manual matte mechanical medium micro mid mild mini
minimalist mirrorless mixed modern moisturizing motorized mountable mounted multiple native natural nesting newest
non nonstick nourishing oily open optical organic original outdoor overheat oversized packable padded parental patent
pigmented plated plush pointed portable potted premium pressed prime professional programmable pure quick quiet
quilted raised raw read ready real realistic rechargeable rectangular reduced reducing refillable regular
reinforced relaxed removable required resealable resistant retro reusable ribbed rich roasted round rugged rustic
safe salted savory scandinavian scented sealed seamless semi sensitive sexy shatter sheer shimmer shockproof short
sided silent single skinny slim small smart smoked smoky smudge soft solar solid sonic sour sparkling spicy spun
squat squeeze stable stainless standard stitched straight strappy stretch sturdy surround sweet swivel synthetic
tagless tangle tapered tempered tested therapeutic thermal thinning tilt tinted tipped toxic traditional treated
trendy tropical tummy turkish turn two ultra universal unrefined unsalted unscented unsweetened upgraded upholstered
vegan vertical vintage volumizing waisted warm washable waterproof whole wide wild windproof wireless wooden woody
woven wrapped wrinkle zero based carry install fuzzy gummy
apricot army beige berry black blue blush brass bronze brown burgundy charcoal cherry chrome coral dark dusty emerald
espresso forest gold golden graphite gray green grey ivory khaki lavender maroon mauve midnight mint mustard navy
nude olive orange pink plum purple red royal ruby rust sage sand silver sky slate tan teal terracotta white wine
yellow rose
""".split())




# ----- compiled tables (built once at import) --------------------------------------------
_SMALL_WORDS = {"a", "an", "and", "the", "of", "for", "with", "in", "on", "to", "by", "or"}
_TOKEN_SPLIT = re.compile(r"[\s\-/]+")


def _title_case(text: str) -> str:
    """Capitalize each word (and each part of a hyphenated word), keep small words lower."""
    return " ".join(w if w in _SMALL_WORDS else "-".join(p[:1].upper() + p[1:] for p in w.split("-"))
                    for w in text.split(" "))


def _nouns_of(text: str) -> tuple[str, ...]:
    """The noun tokens of a vocabulary phrase (see ``_NOT_NOUNS``), lower-cased, in order."""
    nouns = []
    for token in _TOKEN_SPLIT.split(text.lower()):
        token = token.strip(",.():;!")
        if token.endswith("'s"):
            token = token[:-2]
        if len(token) < 2 or token in _NOT_NOUNS or any(c.isdigit() for c in token):
            continue
        nouns.append(token)
    return tuple(nouns)


def _phrase(text: str, title_case: bool = True) -> tuple[str, str, tuple[str, ...]]:
    """(text as shown in a title, lower-cased text, noun tokens)."""
    text = text.strip()
    return (_title_case(text) if title_case else text, text.lower(), _nouns_of(text))


def _phrases(spec: str, title_case: bool = True) -> tuple:
    return tuple(_phrase(t, title_case) for t in spec.split("|"))


# Title slots -> index into the per-product phrase tuple built in ``_make``; the second
# {M} of a template takes a second modifier.
_SLOTS = {"B": 0, "G": 1, "W": 2, "M": 3, "N": 5, "n": 6, "A": 7, "F": 8, "U": 9, "S": 10, "V": 11}


def _compile_title(template: str) -> tuple[str, itemgetter]:
    """``"{B} {N}, {A}"`` -> (``"{} {}, {}"``, itemgetter(0, 5, 7)): a format string and
    the getter of its phrases, in title order, from the per-product phrase tuple."""
    fmt, slots = [], []
    for i, piece in enumerate(re.split(r"\{(\w)\}", template)):
        if i % 2 == 0:
            fmt.append(piece.replace("{", "{{").replace("}", "}}"))
            continue
        slot = _SLOTS[piece]
        if piece == "M" and 3 in slots:
            slot = 4
        slots.append(slot)
        fmt.append("{}")
    return "".join(fmt), itemgetter(*slots)


# Bullets and descriptions are formatted from one argument list per product:
# 0 brand, 1 noun, 2 material, 3 usage, 4 spec, 5 year, 6.. attributes in a rotating order
# (sentence j gets {a} = 6+2j and {b} = 7+2j), then the capitalised {a}s of the bullets,
# or for descriptions one pool attribute the product may not have (a text-only match).
_N_ROTATION = 12
_UPPER_BASE = 6 + _N_ROTATION
_DISTRACTOR = 6 + _N_ROTATION
_TEXT_FIELDS = {"brand": 0, "noun": 1, "mat": 2, "use": 3, "spec": 4, "year": 5}
_PARAGRAPHS_PER_CATEGORY = 96
_TEXT_SEPARATOR = "\x1f"
_FIRST = itemgetter(0)
_THIRD = itemgetter(2)


def _text_templates(sentences: list[str], n_min: int, n_max: int, category: str, kind: str,
                    joiner: str) -> tuple[str, ...]:
    """Multi-sentence templates drawn once at import (fixed seed, ``random()`` only) so a
    product formats its whole description, or all its bullets, in one call."""
    rng = random.Random(f"synthetic-templates:{category}:{kind}")
    out = []
    for _ in range(_PARAGRAPHS_PER_CATEGORY):
        n = n_min + int(rng.random() * (n_max - n_min + 1))
        pool = list(sentences)
        chosen = []
        for j in range(n):  # partial Fisher-Yates
            m = j + int(rng.random() * (len(pool) - j))
            pool[j], pool[m] = pool[m], pool[j]
            chosen.append(pool[j])
        parts = []
        for j, sentence in enumerate(chosen):
            a = 6 + 2 * j
            if kind == "description" and rng.random() < 0.2:
                a = _DISTRACTOR
            fields = {**{k: f"{{{v}}}" for k, v in _TEXT_FIELDS.items()},
                      "a": f"{{{a}}}", "b": f"{{{7 + 2 * j}}}", "A": f"{{{_UPPER_BASE + j}}}"}
            parts.append(sentence.format(**fields))
        out.append(joiner.join(parts))
    return tuple(out)


_TEXT = {
    c: (_text_templates(_BULLETS["all"] + _BULLETS[c], 3, 6, c, "bullets", _TEXT_SEPARATOR),
        _text_templates(_DESCRIPTION_SENTENCES["all"] + _DESCRIPTION_SENTENCES[c], 2, 6, c, "description", " "))
    for c in CATEGORIES
}


_PERMUTATIONS = 64


def _permutations(items: tuple, label: str) -> tuple[tuple, ...]:
    """``_PERMUTATIONS`` shuffled orders of items, each doubled so that any window
    ``perm[start:start + k]`` (start < len, k <= len) is k distinct items. A product takes a
    random window of a random order: one draw each instead of a per-product shuffle.
    Drawn once at import with a fixed seed and ``random()`` only (see "Determinism")."""
    rng = random.Random(f"synthetic-permutations:{label}")
    out = []
    for _ in range(_PERMUTATIONS):
        perm = list(items)
        for j in range(len(perm) - 1, 0, -1):
            m = int(rng.random() * (j + 1))
            perm[j], perm[m] = perm[m], perm[j]
        out.append(tuple(perm) * 2)
    return tuple(out)


@dataclass(frozen=True)
class _OptionPool:
    name: str
    ordered: bool
    values: tuple[str, ...]
    processed: tuple[str, ...]  # the loader's form: strip, "/" -> " | ", lower
    phrases: tuple  # title phrases of the values
    key: str  # the loader's form of the name: lower-cased
    orders: tuple  # value indices in shuffled orders (see _permutations)


_OPTION_POOL_TABLE = {
    key: _OptionPool(name, ordered, tuple(values.split("|")),
                     tuple(v.strip().replace("/", " | ").lower() for v in values.split("|")),
                     tuple(_phrase(v, title_case=False) for v in values.split("|")), name.lower(),
                     _permutations(tuple(range(len(values.split("|")))), f"option:{key}"))
    for key, (name, ordered, values) in _OPTION_POOLS.items()
}


def _price_ladder(lo: float, hi: float) -> tuple[float, ...]:
    """Geometric price points from lo to hi by repeated multiplication: log-uniform prices
    without libm (IEEE multiplication rounds the same on every machine)."""
    points, p = [], max(float(lo), 1.0)
    while p <= hi:
        points.append(p)
        p *= 1.04
    return tuple(points)


@dataclass(frozen=True)
class _CompiledType:
    spec: ProductType
    nouns: tuple  # title phrases of the type nouns
    human: tuple  # per noun: the shoppers' names that fit it
    own_attributes: tuple[str, ...]
    shared_attributes: tuple[str, ...]
    own_orders: tuple  # shuffled orders of the pools (see _permutations)
    shared_orders: tuple
    option_pools: tuple[_OptionPool, ...]
    spec_values: tuple  # phrases for the S slot: values of the type's size-like dimension
    prices: tuple[float, ...]
    gender: tuple  # (G phrase, W phrase)
    brands: tuple
    modifiers: tuple
    features: tuple  # category features plus "with <attribute>" of the type
    uses: tuple
    materials: tuple[str, ...]
    titles: tuple
    bullets: tuple[str, ...]
    descriptions: tuple[str, ...]


def _compile_type(spec: ProductType, shared: tuple[str, ...]) -> _CompiledType:
    category = spec.category
    nouns = tuple(_phrase(n) for n in spec.nouns)
    human = []
    for n in spec.nouns:  # a mascara is not an "eyebrow pencil": keep names sharing a word
        words = set(n.replace("-", " ").split())
        fitting = tuple(h for h in spec.human if words & set(h.replace("-", " ").replace("'s", "").split()))
        human.append(fitting or (n,))
    pools = tuple(_OPTION_POOL_TABLE[k] for k in spec.options)
    size_like = [p for p in pools if p.ordered] or list(pools)
    gender_word = {"men": "Men", "women": "Women"}.get(spec.gender, "")
    gender = ((gender_word + "'s", "", (gender_word.lower(),)), (gender_word, "", (gender_word.lower(),))) \
        if gender_word else (("", "", ()), ("", "", ()))
    brands = tuple((b, b.lower(), tuple(w.lower() for w in b.replace("&", " ").split()))  # proper nouns
                   for b in _BRANDS[category].split("|"))
    own_with = tuple(_phrase("with " + a) for a in spec.attributes if _attribute_kind(a) == "with")
    return _CompiledType(
        spec=spec, nouns=nouns, human=tuple(human),
        own_attributes=spec.attributes,
        shared_attributes=tuple(a for a in shared if a not in spec.attributes),
        own_orders=_permutations(spec.attributes, f"own:{spec.query}"),
        shared_orders=_permutations(tuple(a for a in shared if a not in spec.attributes), f"shared:{spec.query}"),
        option_pools=pools,
        # bare counts read as packs in titles ("12 Pack", not "Security Camera 12")
        spec_values=tuple(_phrase(f"{v} Pack", title_case=False) if v.isdigit() else ph
                          for v, ph in zip(size_like[0].values, size_like[0].phrases)),
        prices=_price_ladder(spec.price[0] / PRICE_SPREAD, spec.price[1] * PRICE_SPREAD),
        gender=gender,
        brands=brands,
        modifiers=_phrases(_MODIFIERS[category]),
        # a type's own "with" attributes make coherent features ("with Kangaroo Pocket")
        features=_phrases(_FEATURES[category]) + own_with * 2,
        uses=_phrases(_USES[category]),
        materials=tuple(_MATERIALS[category].split("|")),
        titles=tuple(_compile_title(t) for t in _TITLE_TEMPLATES[category]),
        bullets=_TEXT[category][0],
        descriptions=_TEXT[category][1],
    )


def _build_types() -> tuple[tuple[ProductType, ...], tuple[_CompiledType, ...]]:
    specs = []
    global_attrs = tuple(_GLOBAL_ATTRIBUTES.split("|"))
    for category in CATEGORIES:
        for row in _TYPE_TABLE[category]:
            query, path, nouns, human, attrs, options, price = row[:7]
            attrs = tuple(dict.fromkeys(attrs.split("|") + _MORE_ATTRIBUTES[query].split("|")))
            specs.append(ProductType(category, query, path, tuple(nouns.split("|")), tuple(human.split("|")),
                                     attrs, tuple(options.split()),
                                     (float(price[0]), float(price[1])), row[7] if len(row) > 7 else ""))
    compiled = tuple(_compile_type(s, tuple(_SHARED_ATTRIBUTES[s.category].split("|")) + global_attrs)
                     for s in specs)
    for t in compiled:  # attribute windows need pools of at least the largest count (10)
        assert len(t.own_attributes) >= 10 and len(t.shared_attributes) >= 10, t.spec.query
    return tuple(specs), compiled


PRODUCT_TYPES, _TYPES = _build_types()


def _type_cumulative() -> tuple[float, ...]:
    """Cumulative probabilities: a category by its weight, then a type uniformly in it."""
    per_category = {c: sum(1 for t in PRODUCT_TYPES if t.category == c) for c in CATEGORIES}
    total = sum(_CATEGORY_WEIGHTS.values())
    acc, out = 0.0, []
    for t in PRODUCT_TYPES:
        acc += _CATEGORY_WEIGHTS[t.category] / total / per_category[t.category]
        out.append(acc)
    out[-1] = 1.0
    return tuple(out)


_TYPE_CUMULATIVE = _type_cumulative()
_ATTRIBUTE_KIND = {a: _attribute_kind(a) for t in _TYPES for a in t.own_attributes + t.shared_attributes}
_ATTRIBUTE_PHRASES = {a: _phrase(a) for a in _ATTRIBUTE_KIND}
_ATTRIBUTE_UPPER = {a: a.upper() for a in _ATTRIBUTE_KIND}
# steps coprime with n: start + j*step (mod n) visits distinct positions (see _spread)
_STEPS = {n: tuple(s for s in range(1, n) if math.gcd(s, n) == 1) or (1,) for n in range(1, 80)}
_ATTRIBUTE_COUNT_TABLES: dict[float, tuple[tuple[int, int], ...]] = {}


def _attribute_counts(shared_rate: float) -> tuple[tuple[int, int], ...]:
    """(number of attributes, how many from shared pools) as ~1000 equally likely rows: one
    draw per product instead of one per attribute. The shared count is Binomial(n,
    shared_rate); the table is built once per rate (the float maths runs here, never per
    product, and gives the same rounded counts everywhere)."""
    table = _ATTRIBUTE_COUNT_TABLES.get(shared_rate)
    if table is None:
        sizes = (3, 3, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 7, 7, 8, 9, 10)  # 3-10, mostly 4-6
        rows = []
        for n in sizes:
            for k in range(n + 1):
                q = float(math.comb(n, k))
                for _ in range(k):  # products, not **: float pow is libm's, this is IEEE-exact
                    q *= shared_rate
                for _ in range(n - k):
                    q *= 1 - shared_rate
                rows += [(n, k)] * round(q * 1000 / len(sizes))
        table = _ATTRIBUTE_COUNT_TABLES[shared_rate] = tuple(rows)
    return table


# Fixed discrete distributions (tables rather than formulas: see "Determinism").
_RATINGS = tuple(f"{r / 10:.1f}" for r in (30, 33, 35, 36, 38, 39, 40, 40, 41, 42, 42, 43, 43, 44, 44, 44, 45, 45,
                                           45, 46, 46, 46, 47, 47, 47, 48, 48, 49, 50, 50))
_CENTS = (99, 99, 99, 95, 49, 0, 0, 97, 89, 50)
_N_DIMENSIONS = (1, 1, 1, 1, 1, 2, 2, 2, 2, 3)  # as the original: ~half 1, ~half 2
_N_VALUES = {1: (2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 8, 9, 10, 11, 12),
             2: (2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8),
             3: (2, 2, 3, 3, 4)}  # values per dimension, by number of dimensions
_N_IMAGES = (1, 2, 3, 4, 5, 5, 6, 6, 7, 7, 8, 8, 8)
_IMAGE_NAMES = tuple(f"{k}.jpg" for k in range(8))
_YEARS = tuple(str(y) for y in range(1978, 2021))


# ----- ASINs --------------------------------------------------------------------------------
_HALF = 36 ** 4  # a Feistel permutation over (high, low) pairs of 4-digit base-36 halves
_FEISTEL_KEYS = (0x5A17, 0x2C3B9, 0x71D2F)
_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_B36_PAIRS = tuple(a + b for a in _B36 for b in _B36)


def asin_for(index: int) -> str:
    """``"B0"`` + 8 base-36 digits: a bijection of ``index`` in [0, 36**8)."""
    if not 0 <= index < _HALF * _HALF:
        raise ValueError(f"product index {index} out of range")
    left, right = divmod(index, _HALF)
    for key in _FEISTEL_KEYS:  # any round function keeps a Feistel network bijective
        mixed = (right * 2654435761 + key) % 4294967311
        left, right = right, (left + (mixed ^ (mixed >> 13))) % _HALF
    return ("B0" + _B36_PAIRS[left // 1296] + _B36_PAIRS[left % 1296]
            + _B36_PAIRS[right // 1296] + _B36_PAIRS[right % 1296])


# ----- the generator ------------------------------------------------------------------------
@dataclass(frozen=True)
class SyntheticItem:
    """One product in the original raw formats, with the nouns of its title."""

    product: dict  # items_shuffle record
    attributes: dict  # items_ins_v2 entry
    human_instructions: list  # items_human_ins entries for this asin
    title_nouns: list[str]  # lower-cased noun tokens of product["name"], in title order


_new_item = object.__new__


def _rng_key(seed: int, index: int) -> int:
    """A distinct non-negative integer per (seed, index): seeds map to naturals (z -> 2z or
    -2z-1) so that -1 and 1 differ (``random.seed`` drops an int's sign)."""
    s = 2 * seed if seed >= 0 else -2 * seed - 1
    return (s << 48) | index


def generate(n_products: int, seed: int = 0) -> Iterator[SyntheticItem]:
    """Products ``0 .. n_products-1`` of catalog ``seed``; product i never depends on n."""
    if n_products < 0:
        raise ValueError("n_products must be >= 0")
    if n_products > _HALF * _HALF:
        raise ValueError(f"at most {_HALF * _HALF} products")
    rng = random.Random()
    # random.Random.seed passes ints straight to the C seeding: calling that directly gives
    # the same state as random.Random(key) and saves a Python call per product
    reseed = super(random.Random, rng).seed
    base = _rng_key(seed, 0)
    for i in range(n_products):
        reseed(base | i)  # == _rng_key(seed, i)
        yield _make(rng, i)


def make_item(index: int, seed: int = 0) -> SyntheticItem:
    """Product ``index`` of catalog ``seed`` alone (the same as in ``generate``)."""
    return _make(random.Random(_rng_key(seed, index)), index)


def _spread(rnd, seq, k: int) -> list:
    """k distinct elements of seq: an arithmetic walk with a random start and a step coprime
    with len(seq). Cheaper than a shuffle and good enough to vary combinations."""
    n = len(seq)
    if k >= n:
        k = n
    start = int(rnd() * n)
    steps = _STEPS[n]
    step = steps[int(rnd() * len(steps))]
    return [seq[(start + j * step) % n] for j in range(k)]


def _sample(rnd, seq, k: int) -> list:
    """k distinct elements of seq in random order (partial Fisher-Yates on a copy)."""
    pool = list(seq)
    n = len(pool)
    k = min(k, n)
    for j in range(k):
        m = j + int(rnd() * (n - j))
        pool[j], pool[m] = pool[m], pool[j]
    return pool[:k]


def _weighted(rnd, weights) -> int:
    """An index drawn with the given (unnormalised) weights."""
    x = rnd() * sum(weights)
    for j, w in enumerate(weights):
        x -= w
        if x < 0:
            return j
    return len(weights) - 1


def _make(rng: random.Random, index: int) -> SyntheticItem:
    rnd = rng.random
    t = _TYPES[bisect_right(_TYPE_CUMULATIVE, rnd())]
    asin = asin_for(index)

    # attributes: mostly from the type's own pool, a share from the category/global pools
    counts = _ATTRIBUTE_COUNT_TABLES.get(SHARED_ATTRIBUTE_RATE) or _attribute_counts(SHARED_ATTRIBUTE_RATE)
    n_attr, n_shared = counts[int(rnd() * len(counts))]
    own = t.own_attributes
    n_own = n_attr - n_shared
    start = int(rnd() * len(own))
    attributes = list(t.own_orders[int(rnd() * _PERMUTATIONS)][start:start + n_own])
    start = int(rnd() * len(t.shared_attributes))
    attributes += t.shared_orders[int(rnd() * _PERMUTATIONS)][start:start + n_shared]

    # options: about half the products have none; the type's first dimension comes first
    chosen: list[tuple[_OptionPool, list[int]]] = []
    if rnd() < OPTION_RATE:
        pools = t.option_pools
        n_dims = min(len(pools), _N_DIMENSIONS[int(rnd() * 10)])
        dims = [pools[0]] + _spread(rnd, pools[1:], n_dims - 1) if n_dims > 1 else [pools[0]]
        counts = _N_VALUES[n_dims]
        names = set()
        for pool in dims:
            if pool.name in names:  # two dimensions may share a display name ("Size")
                continue
            names.add(pool.name)
            n_vals = len(pool.values)
            k = counts[int(rnd() * len(counts))]
            if k > n_vals:
                k = n_vals
            if pool.ordered:  # sizes and counts come as contiguous runs
                start = int(rnd() * (n_vals - k + 1))
                idx = list(range(start, start + k))
            else:
                start = int(rnd() * n_vals)
                idx = sorted(pool.orders[int(rnd() * _PERMUTATIONS)][start:start + k])
            chosen.append((pool, idx))
    customization = {pool.name: [{"value": pool.values[j], "image": None} for j in idx]
                     for pool, idx in chosen} if chosen else ""

    # title: a template over (brand, G, W, modifier, modifier, noun, noun, attribute,
    # feature, usage, spec, option value); nouns come from the phrases used, in order
    nouns_pool = t.nouns
    noun_i = int(rnd() * len(nouns_pool))
    noun = nouns_pool[noun_i]
    brand = t.brands[int(rnd() * len(t.brands))]
    mods = t.modifiers
    spec = t.spec_values[int(rnd() * len(t.spec_values))]
    use = t.uses[int(rnd() * len(t.uses))]
    if chosen:
        pool, idx = chosen[0]
        value_phrase = pool.phrases[idx[int(rnd() * len(idx))]]
    else:
        value_phrase = spec
    phrases = (brand, t.gender[0], t.gender[1], mods[int(rnd() * len(mods))], mods[int(rnd() * len(mods))], noun,
               nouns_pool[int(rnd() * len(nouns_pool))], _ATTRIBUTE_PHRASES[attributes[0]],
               t.features[int(rnd() * len(t.features))], use, spec, value_phrase)
    fmt, getter = t.titles[int(rnd() * len(t.titles))]
    used = getter(phrases)
    name = fmt.format(*map(_FIRST, used))
    title_nouns = list(chain.from_iterable(map(_THIRD, used)))  # may repeat, as spaCy's do

    # bullets and description: attributes rotate through the sentences so that most of
    # them appear in the text, as the original's attributes were mined from it
    n_a = len(attributes)
    rotation = attributes * (_N_ROTATION // n_a + 2)
    args = [brand[0], noun[1], t.materials[int(rnd() * len(t.materials))], use[1], spec[0],
            _YEARS[int(rnd() * len(_YEARS))]]
    bullet_args = args + rotation[1:1 + _N_ROTATION]  # attributes[0] is in the title already
    bullet_args += map(_ATTRIBUTE_UPPER.__getitem__, bullet_args[6::2])
    bullets = t.bullets[int(rnd() * _PARAGRAPHS_PER_CATEGORY)].format(*bullet_args).split(_TEXT_SEPARATOR)
    if rnd() < EMPTY_DESCRIPTION_RATE:
        description = ""
    else:
        shift = 1 + 2 * len(bullets)
        desc_args = args + rotation[shift % n_a:shift % n_a + _N_ROTATION]
        desc_args.append(own[int(rnd() * len(own))])
        description = t.descriptions[int(rnd() * _PARAGRAPHS_PER_CATEGORY)].format(*desc_args)

    # price: a rung of the type's log-spaced ladder; ranges mostly for products with options
    base = t.prices[int(rnd() * len(t.prices))]
    r = rnd()
    if r < NO_PRICE_RATE:
        pricing = ""
    elif r < NO_PRICE_RATE + PRICE_RANGE_RATE[bool(chosen)]:
        high = base * (1.25 + int(rnd() * 16) / 10)
        pricing = f"${(int(base) * 100 + _CENTS[int(rnd() * 10)]) / 100!r} - " \
                  f"${(int(high) * 100 + _CENTS[int(rnd() * 10)]) / 100!r}"
    else:
        # dollars and cents rendered as the original renders floats: 12.99, 12.0, 877.5
        pricing = f"${(int(base) * 100 + _CENTS[int(rnd() * 10)]) / 100!r}"

    prefix = f"synthetic://img/{asin}/"
    product = {
        "name": name,
        "full_description": description,
        "pricing": pricing,
        "images": list(map(prefix.__add__, _IMAGE_NAMES[:_N_IMAGES[int(rnd() * 13)]])),
        "product_category": t.spec.product_category,
        "small_description": bullets,
        "customization_options": customization,
        "asin": asin,
        "category": t.spec.category,
        "query": t.spec.query,
        "average_rating": _RATINGS[int(rnd() * 30)] if rnd() < 0.6 else "",
        "page": 1 + int(rnd() * rnd() * 400),
    }

    # items_ins_v2 entry
    entry: dict = {"attributes": attributes}
    if rnd() < SYNTHETIC_INSTRUCTION_RATE:
        picked = _sample(rnd, attributes, 2 + int(rnd() * 3))
        entry["instruction"] = _find_me(t.spec.query, picked)
        entry["instruction_attributes"] = picked

    # human instructions
    human: list[dict] = []
    if rnd() < HUMAN_RATE_BY_DIMENSIONS[len(chosen)]:
        for _ in range(2 if rnd() < SECOND_HUMAN_RATE else 1):
            human.append(_human_instruction(rnd, t, noun_i, asin, attributes, chosen, brand[1]))

    # a frozen dataclass's __init__ sets each field through object.__setattr__; filling the
    # instance dict directly gives the same object for a fraction of the cost
    item = _new_item(SyntheticItem)
    item.__dict__.update(product=product, attributes=entry, human_instructions=human, title_nouns=title_nouns)
    return item


def _find_me(query: str, attrs: list[str]) -> str:
    """The items_ins_v2 instruction: "Find me <pre attrs> <query> with <...> for <...>"."""
    pre = [a for a in attrs if _ATTRIBUTE_KIND[a] == "pre"]
    for_ = [a for a in attrs if _ATTRIBUTE_KIND[a] == "for"]
    with_ = [a for a in attrs if _ATTRIBUTE_KIND[a] not in ("pre", "for")]
    text = "Find me " + (", ".join(pre) + " " if pre else "") + query
    if with_:
        text += " with " + ", ".join(with_)
    if for_:
        text += " for " + ", ".join(for_)
    return text


# ----- human instructions ---------------------------------------------------------------
_OPENERS = ("i'm looking for", "i am looking for", "i am looking for", "im looking for", "i need", "i need",
            "i want", "i want", "find me", "i want to buy", "i would like", "i would like to get", "can you find me",
            "get me", "show me", "hello, i'm looking for", "please find", "i'm searching for",
            "i am interested in buying", "i'd like to order", "help me find", "i am searching for", "buy me",
            "i'm shopping for", "looking for")
_TAILS = ("", "", "", "", "", "", ".", ".", ".", " please", " for my husband", " for my wife", " as a gift",
          " for my daughter", " for everyday use", " for my mom", ", thanks", " for my new apartment")
_OPTION_LEADS = (". i want it", ". i'd like it", ", preferably", ". i need it")
_EASY_VERBS = {"use", "clean", "install", "assemble", "carry", "apply", "blend", "make", "connect", "setup"}
_OPTION_PREPOSITIONS = ("in ", "with ", "for ", "made ", "that ")
_CLAUSE_STARTS = ("that ", "with ", "for ", "without ", "which ", "made ")
_HYPHEN_LAST = {"free", "proof", "friendly", "lasting", "resistant", "safe", "based", "fed", "dry", "fit"}
_HYPHEN_FIRST = {"non", "anti", "long", "short", "high", "low"}
# head words too vague to stand alone ("with design")
_VAGUE_HEADS = {"design", "protection", "quality", "style", "formula", "finish", "look", "function", "support",
                "system", "technology", "content", "time", "on", "up", "in", "mode", "control", "size", "type"}


def _attribute_words(rnd, attr: str) -> str:
    """How a shopper writes an attribute: as is, in other words (``_SHOPPER_WORDS``), or
    lightly reworded ("easy to install", "gluten-free")."""
    if rnd() >= PARAPHRASE_RATE:
        return attr
    other = _SHOPPER_WORDS.get(attr)
    if other:
        return other[int(rnd() * len(other))]
    first, _, last = attr.partition(" ")
    if first == "easy" and last in _EASY_VERBS:
        return "easy to set up" if last == "setup" else f"easy to {last}"
    if last in _HYPHEN_LAST or first in _HYPHEN_FIRST:  # "gluten-free", "non-slip"
        return f"{first}-{last}"
    if _ATTRIBUTE_KIND[attr] == "with" and last not in _VAGUE_HEADS and rnd() < 0.6:
        return "with " + last  # vaguer: "with pockets", not "zipper pockets"
    return attr


def _option_words(rnd, name: str, value: str) -> str:
    """A processed option value as a shopper phrases it ("in size large", "pecan flavor")."""
    r = rnd()
    v = value.replace(" | ", " and " if r < 0.5 else "/") if " | " in value else value
    if "(" in v and rnd() < 0.3:
        v = v.replace("(", "").replace(")", "")
    if name == "color":
        return f"in {v}" if r < 0.45 else f"in {v} color" if r < 0.8 else f"in the color {v}"
    if name == "size":
        if v.startswith("fits"):
            return f"that {v}"
        return f"in size {v}" if r < 0.4 else f"size {v}" if r < 0.7 else f"in {v}"
    if name.startswith("flavor"):
        return f"{v} flavor" if r < 0.5 else f"in {v} flavor" if r < 0.8 else f"with {v} flavor"
    if name == "scent":
        if v == "unscented":
            return "that is unscented"
        return f"in {v} scent" if r < 0.5 else f"with {'an' if v[0] in 'aeiou' else 'a'} {v} scent"
    if name == "style":
        if "style" in v or "piece" in v:
            return f"in {v}"
        return f"in {v} style" if r < 0.6 else f"in the {v} style"
    if name in ("item package quantity", "number of items"):
        return f"pack of {v}" if r < 0.6 else f"{v} pack"
    if name == "fit type":
        return f"for {v}" if r < 0.5 else f"in {v} fit"
    if name == "pattern name":
        return f"with {v} pattern" if r < 0.5 else f"in {v} print"
    if name == "material type":
        return f"made of {v}" if r < 0.5 else f"in {v}"
    if name == "capacity":
        return f"with {v} storage" if r < 0.5 else f"with {v}"
    return f"{name} {v}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _human_instruction(rnd, t: _CompiledType, noun_i: int, asin: str, attributes: list[str],
                       chosen: list, brand: str) -> dict:
    """One items_human_ins entry: a shopper's request for this product."""
    picked_attrs = _spread(rnd, attributes, 1 + _weighted(rnd, INSTRUCTION_ATTRIBUTE_WEIGHTS))
    # one value per option dimension (the page-style "name: value" list), some of them named
    values = [pool.processed[idx[int(rnd() * len(idx))]] for pool, idx in chosen]
    page_options = [f"{pool.key}: {v}" for (pool, _), v in zip(chosen, values)]
    named: list[tuple[str, str]] = []  # (lower-cased option name, processed value)
    if chosen:
        n_opt = min(_weighted(rnd, INSTRUCTION_OPTION_WEIGHTS), len(chosen))
        named = [(chosen[j][0].key, values[j]) for j in _spread(rnd, range(len(chosen)), n_opt)]

    # the type in shoppers' words: a name that fits the product's noun, or the noun itself
    if rnd() < 0.4:
        what = t.nouns[noun_i][1]
    else:
        names = t.human[noun_i]
        what = names[int(rnd() * len(names))]
    if rnd() < BRAND_MENTION_RATE:
        what = f"{brand} {what}"
    head = what.split(" for ")[0]  # "shorts for men" is plural
    plural = head.endswith("s") and not head.endswith("ss") and not head.startswith("pair of")
    pre, adjectives, with_, for_, clauses = [], [], [], [], []
    for attr in picked_attrs:
        kind = _ATTRIBUTE_KIND[attr]
        if kind == "clause":
            clauses.append(_ATTRIBUTE_CLAUSES[attr])
            continue
        words = _attribute_words(rnd, attr)
        if words.startswith(_CLAUSE_STARTS):
            clauses.append(words)
        elif kind == "pre" or (kind == "with" and words != attr):  # reworded: "aromatic", "sturdy"
            (pre if rnd() < 0.6 else adjectives).append(words)
        elif kind == "for":
            for_.append(words)
        else:
            with_.append(words)
    if adjectives:
        clauses.insert(0, f"that {'are' if plural else 'is'} {_join(adjectives)}")
    if with_:
        clauses.append(("with " if rnd() < 0.7 else f"that {'have' if plural else 'has'} ") + _join(with_))
    if for_:
        clauses.append("for " + _join(for_))
    option_words = [_option_words(rnd, n, v) for n, v in named]
    lead = ""
    if named and named[0][0] == "color" and rnd() < 0.35:  # "a navy blue hoodie"
        lead = named[0][1].replace(" | ", " and ") + " "
        option_words = option_words[1:]
    body = lead + (", ".join(pre) + " " if pre else "") + what
    if plural or t.spec.category == "grocery":  # "some almonds", "dark chocolate"
        article = "some " if rnd() < 0.35 else ""
    elif rnd() < 0.2:
        article = ""
    else:
        article = "an " if body[0] in "aeiou" else "a "
    text = f"{_OPENERS[int(rnd() * len(_OPENERS))]} {article}{body}"
    style = rnd()
    if option_words and style < 0.3:  # options first: "a hoodie in size large with a hood"
        text += " " + _join(option_words) + "".join(" " + c for c in clauses)
    else:
        text += "".join(" " + c for c in clauses)
        if option_words:
            if style > 0.8:
                text += _OPTION_LEADS[int(rnd() * len(_OPTION_LEADS))]
            if (clauses or style > 0.8) and not option_words[0].startswith(_OPTION_PREPOSITIONS):
                text += " in"  # "... that is gluten free in pecan flavor"
            text += " " + _join(option_words)
    text += _TAILS[int(rnd() * len(_TAILS))]
    return {
        "asin": asin,
        "instruction": text,
        "attributes": list(attributes),
        "options": page_options or [""],
        "instruction_attributes": picked_attrs,
        "instruction_options": [v for _, v in named],
    }
