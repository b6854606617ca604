"""Multi-armed bandits: allocation policies and the registered allocation / regret analysis."""
