"""The catalog tests share moto with the construct's tables, a second identity to approve, and spec documents."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import boto3
import pytest
import yaml
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from moto import mock_aws

from agentzone.catalog.spec import load_specs
from agentzone.catalog.store import Catalog
from agentzone.constructs.catalog import Catalogs, CatalogsProps

from ..conftest import ROOT
from ..support import new_app

ACCOUNT = "100000000011"  # shared services, dev, in the sample config
REGION = "eu-west-1"
READERS = ["111111111111", "222222222222"]
ORG_ID = "o-a1b2c3d4e5"
EXAMPLES = ROOT / "examples" / "catalog"


@pytest.fixture(scope="package")
def deployed_tables() -> Template:
    """The catalog construct's template: moto gets exactly the tables (key schema, indexes) that deploy."""
    stack = cdk.Stack(new_app(), "SharedServices", env=cdk.Environment(account=ACCOUNT, region=REGION))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    Catalogs(
        stack, "Catalogs", props=CatalogsProps(encryption_key=key, reader_accounts=READERS, organization_id=ORG_ID)
    )
    return Template.from_stack(stack)


@pytest.fixture
def aws(monkeypatch, tmp_path, deployed_tables):
    """moto with the construct's tables, in the sample's dev shared-services account (overrides the root ``aws``)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no credentials: fail fast, do not probe IMDS
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        for resource in deployed_tables.find_resources("AWS::DynamoDB::GlobalTable").values():
            props = resource["Properties"]
            client.create_table(
                TableName=props["TableName"],
                KeySchema=props["KeySchema"],
                AttributeDefinitions=props["AttributeDefinitions"],
                BillingMode=props["BillingMode"],
                GlobalSecondaryIndexes=[
                    {k: g[k] for k in ("IndexName", "KeySchema", "Projection")}
                    for g in props.get("GlobalSecondaryIndexes", [])
                ],
            )
        yield


def reviewer_credentials() -> dict[str, str]:
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/catalog-reviewer", RoleSessionName="reviewer"
    )["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }


@pytest.fixture
def catalog(aws) -> Catalog:
    return Catalog()


@pytest.fixture
def reviewer(aws) -> Catalog:
    creds = reviewer_credentials()
    session = boto3.Session(
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"],
        region_name=REGION,
    )
    return Catalog(session=session)


def spec_doc(kind="tool", name="claims-lookup", version="1.2.0", **overrides) -> dict:
    doc = {
        "kind": kind,
        "name": name,
        "version": version,
        "owner": "claims-ai@example.com",
        "description": f"The {name} {kind}.",
        "intended_use": "Claims agents.",
        "limitations": ["Read-only."],
        "consumption": "SaaS",
        "endpoint": f"https://tools.example.com/{name}",
        "lifecycle": {"stage": "ga", "end_of_life": "2099-12-31"},
    }
    doc.update(overrides)
    return doc


def write(tmp_path: Path, doc: dict | str, name: str | None = None) -> Path:
    """A spec file: a document as YAML (named after kind, name and version unless ``name``), or text as it is."""
    if isinstance(doc, str):
        assert name is not None, "text needs a file name"
        text = doc
    else:
        name = name or f"{doc['kind']}-{doc['name']}-{doc['version']}.yaml"
        text = yaml.safe_dump(doc, sort_keys=False)
    path = tmp_path / name
    path.write_text(text)
    return path


def spec(tmp_path, **kwargs):
    return load_specs([write(tmp_path, spec_doc(**kwargs))])[0]


def ref(kind, name, version):
    return {"kind": kind, "name": name, "version": version}
