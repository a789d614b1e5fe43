"""agent_gym"""
