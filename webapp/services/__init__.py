"""The service layer: everything the pages (webapp.views) and the JSON API (webapp.api) compute.

Views and the API parse requests and render answers; services read the index, call the chain through
webapp.chain and energy_chain's market clients, and never import views or the API.
"""
