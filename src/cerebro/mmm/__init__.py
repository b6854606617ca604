"""Media mix modelling: adstock, saturation, the Bayesian model and budget optimisation."""
