"""WebShop's prompt for LLM agents: the task's rules (``WebShopEnv.agent_prompt``) and a short
made-up example episode (``WebShopEnv.agent_example``), shown by the LLM baselines when asked
to. ``agent_gym.core.prompts.system_prompt`` adds the reply format after the rules.
"""

AGENT_PROMPT = """\
You are a shopping agent in an online store. Buy the one product that best fits the \
customer's instruction: its kind of product, the attributes asked for, the options to \
choose (size, color, flavor, count...) and the price limit.

Each step shows you the current page as an Observation (page texts separated by [SEP]) \
and the actions you can take there.

The actions are:
- search[<keywords>]: type keywords into the search box (only on the search page).
- click[<element>]: click something on the current page, spelled as in the list of \
available actions: a product id on a results page to open that product; on a product \
page an option value to select it, description / features / reviews to read more, \
buy now to buy it; next > and < prev to change page; back to search to start a new search.

Select every option the instruction asks for before you click buy now. Stay under the \
price limit. If no result fits, search again with other keywords."""

AGENT_EXAMPLE = """\
Here is a short made-up episode showing the format:

Instruction: I want a two pack of green ceramic mugs, price lower than 30.00 dollars
Observation: WebShop [SEP] Instruction: [SEP] I want a two pack of green ceramic mugs, \
price lower than 30.00 dollars [SEP] Search
Thought: I will search for the product and its main attributes.
Action: search[green ceramic mug 2 pack]
Observation: ... [SEP] B0AAA11111 [SEP] Fernhill Stoneware Coffee Mug, Set of 2 [SEP] \
$18.99 [SEP] B0BBB22222 [SEP] Glass Tea Cup with Saucer [SEP] $34.50 [SEP] ...
Thought: The first result is a ceramic mug set under 30 dollars; I will open it.
Action: click[b0aaa11111]
Observation: ... [SEP] color [SEP] blue [SEP] green [SEP] white [SEP] Fernhill Stoneware \
Coffee Mug, Set of 2 [SEP] Price: $18.99 [SEP] ... [SEP] Buy Now
Thought: The customer wants green, so I select it first.
Action: click[green]
Observation: (the same page, with green selected)
Thought: The option is set and the price fits. I buy it.
Action: click[buy now]"""
