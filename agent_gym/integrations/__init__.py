"""Thin adapters to other stacks, one extra each (nothing here is imported by ``import agent_gym``).

* ``agent_gym.integrations.openenv``: any registered env as an OpenEnv ``Environment`` with a
  FastAPI server (``make_app``) and a typed client (``pip install agent-gym[openenv]``).
* ``agent_gym.integrations.trl``: environment classes, a task dataset, a multi-turn
  ``rollout_func`` and SFT warm-up data for TRL's ``GRPOTrainer`` (``pip install agent-gym[trl]``).

AgentGym's WebShop API lives beside the site: ``agent_gym.webshop.site.agentgym``.
See docs/integrations.md.
"""
