"""Colour normalisation used by the option reward.

The original maps an option value to the first colour word of its list that occurs in it
(``"dark navy blue"`` -> ``"blue"``, as the list is alphabetical), so that shades of one
colour match. The word list is a fact of the original benchmark, reproduced here.
"""

from __future__ import annotations

COLOR_SET = (
    "alabaster", "apricot", "aqua", "ash", "asphalt", "azure", "banana", "beige", "black",
    "blue", "blush", "bordeaux", "bronze", "brown", "burgundy", "camel", "camo", "caramel",
    "champagne", "charcoal", "cheetah", "chestnut", "chocolate", "christmas", "coffee",
    "cognac", "copper", "coral", "cranberry", "cream", "crystal", "dark", "denim", "eggplant",
    "elephant", "espresso", "fuchsia", "gold", "granite", "grape", "graphite", "grass", "gray",
    "green", "grey", "heather", "indigo", "ivory", "ivy", "khaki", "lavender", "lemon",
    "leopard", "light", "lilac", "lime", "magenta", "maroon", "mauve", "merlot", "midnight",
    "mint", "mocha", "multicolor", "mushroom", "mustard", "natural", "navy", "nude", "olive",
    "orange", "peach", "pewter", "pink", "plum", "purple", "rainbow", "red", "rose", "royal",
    "rust", "sand", "sapphire", "seashell", "silver", "skull", "slate", "steel", "stone",
    "stonewash", "sunflower", "tan", "taupe", "teal", "tiger", "turquoise", "violet", "walnut",
    "wheat", "white", "wine", "yellow",
)


def normalize_color(value):
    """The first colour of ``COLOR_SET`` contained in ``value``, else ``value`` unchanged.

    ``value`` may be a ``(name, value)`` tuple, as the original passes for synthetic goals;
    ``in`` then tests the tuple's elements for equality, which this keeps.
    """
    for color in COLOR_SET:
        if color in value:
            return color
    return value
