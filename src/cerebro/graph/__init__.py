"""Causal graphs, shared by every family that reads one: read a DAG (DOT, YAML, edge list), find
what it identifies (back-door and front-door sets, instruments), list and test the conditional
independences it implies, draw it, and propose one from data (causal discovery).

A node that is not a column of the data is latent; so is a node marked ``observed="no"``.
Identification only ever uses observed nodes. Built on networkx's d-separation
(``nx.is_d_separator``, ``nx.find_minimal_d_separator``); references: Pearl (2009),
*Causality*, 2nd ed., ch. 3 (back-door and front-door criteria) and Textor et al. (2016),
"Robust causal inference using directed acyclic graphs: the R package dagitty".
"""
