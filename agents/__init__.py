"""Automatic trading agents: one per household meter, the same code live and in the community simulator.

Modules: `bounds` (the user's limits), `pricing` (strategies behind one interface), `forecast` (next-interval net),
`battery` (a household battery charged and discharged against prices), `agent` (the decision of one interval),
`venues` (orders for the order book and the auction, built through the energy_chain SDK), `live` (the loop that
runs agents against a live chain). Direct trading (`direct`), seller selection (`selection`) and discovery
(`discovery`) are their own modules.
"""
