"""Deploy the project's contracts and write deployments/<chain-id>.json (energy_chain.deploy does the work).

Run: `make deploy` (local chain: anvil's dev accounts, see energy_chain.devchain) or
`RPC_URL=… CHAIN_ID=… DEPLOYER_KEYSTORE=… DEPLOYER_PASSWORD_FILE=… make deploy` (a PoA chain).
"""

from __future__ import annotations

import os

from energy_chain import ChainClient, ChainConfig, Deployment
from energy_chain.deploy import Roles, deploy_all, roles_from_env
from energy_chain.devchain import is_local, local_roles


def default_roles(client: ChainClient) -> Roles:
    """The dev accounts on the local chain (unless DEPLOYER_KEYSTORE is set), else the keystore's."""
    if is_local(client) and not os.environ.get("DEPLOYER_KEYSTORE"):
        return local_roles(client)
    return roles_from_env(client.chain_id)


def deploy(client: ChainClient, quiet: bool = False) -> Deployment:
    return deploy_all(client, default_roles(client), quiet)


def main() -> None:
    client = ChainClient(ChainConfig.from_env())
    record = deploy(client)
    path = Deployment.path_for(client.config.deployments_dir, client.chain_id)
    print(f"deployment record: {path} (chain {record.chain_id}, contracts: {', '.join(record.contracts)})")


if __name__ == "__main__":
    main()
