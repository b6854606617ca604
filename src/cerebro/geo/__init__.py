"""Geo experiments: lift of a treated set of markets, market selection and power by simulation."""
