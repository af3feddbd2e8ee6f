"""Who deploys and who holds which role, on the local chain and on a real PoA chain.

Local chain (chain id 1337): anvil's public dev accounts — 0 admin/deployer, 1 operator, 2 oracle.
Other chains: DEPLOYER_KEYSTORE + DEPLOYER_PASSWORD_FILE (an encrypted keystore, never a plaintext key),
OPERATOR_ADDRESS and ORACLE_ADDRESS (default: the deployer; separate them in production).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from energy_chain import Signer
from energy_chain.anvil import dev_key
from energy_chain.config import LOCAL_CHAIN_ID

ADMIN_INDEX, OPERATOR_INDEX, ORACLE_INDEX = 0, 1, 2


@dataclass(frozen=True)
class Roles:
    deployer: Signer
    admin: str
    operator: str
    oracle: str

    def as_record(self) -> dict[str, str]:
        return {"admin": self.admin, "operator": self.operator, "oracle": self.oracle}


def local_signer(index: int) -> Signer:
    return Signer.from_key(dev_key(index))


def resolve_roles(chain_id: int) -> Roles:
    if chain_id == LOCAL_CHAIN_ID and not os.environ.get("DEPLOYER_KEYSTORE"):
        deployer = local_signer(ADMIN_INDEX)
        return Roles(deployer, deployer.address, local_signer(OPERATOR_INDEX).address,
                     local_signer(ORACLE_INDEX).address)  # fmt: skip
    keystore = os.environ.get("DEPLOYER_KEYSTORE")
    password_file = os.environ.get("DEPLOYER_PASSWORD_FILE")
    if not keystore or not password_file:
        raise SystemExit(
            f"chain {chain_id} is not the local chain: set DEPLOYER_KEYSTORE and DEPLOYER_PASSWORD_FILE "
            "(and OPERATOR_ADDRESS, ORACLE_ADDRESS) to deploy there"
        )
    deployer = Signer.from_keystore_files(keystore, password_file)
    return Roles(
        deployer,
        deployer.address,
        os.environ.get("OPERATOR_ADDRESS", deployer.address),
        os.environ.get("ORACLE_ADDRESS", deployer.address),
    )
