"""The WebShop web site: the shop's state machine and pages served with Flask."""

from agent_gym.webshop.site.app import create_app

__all__ = ["create_app"]
