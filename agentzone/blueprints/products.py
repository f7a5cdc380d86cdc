"""Self-service vending: blueprints as AWS Service Catalog products a use-case team launches itself.

:class:`TenantCatalog` (the tenant's ``TenantServicesStack``, in the
environment's shared-services account) is the portfolio
``agentzone-<tenant>-<env>`` with one ``CloudFormationProduct`` per offered
blueprint, shared with the tenant's account of that environment; every
product launches with that account's local launch role, which
:class:`~agentzone.constructs.service_catalog.CatalogLaunchAccess` creates
there. The products build the blueprints themselves, so they live in this
layer; the versions, names and launch access are constructs.

Offered blueprints (:data:`OFFERED`) run from a template alone: no Lambda code
or other file assets (a product stack with assets needs its own asset bucket
and a copy job), no resources of the account's UseCaseStack, no roles the
organization's SCPs exempt. Each blueprint's spec (``BlueprintSpec.catalog``)
says whether it is offered, and if not, why.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_servicecatalog as servicecatalog
from constructs import Construct

from ..config.model import GuardrailBlueprint, MemoryResource, Tenant
from ..constructs.guardrail import CONTENT_CATEGORIES
from ..constructs.service_catalog import (
    GUARDRAIL_PRODUCT,
    KEY_PARAMETER,
    LIBRARY_VERSION,
    MEMORY_PRODUCT,
    PRODUCT_TAG,
    PROVIDER,
    SNAPSHOT_DIR,
    SNAPSHOT_DIR_CONTEXT,
    ProductVersions,
    portfolio_name,
)
from ..naming import launch_role_name, pascal, product_boundary_name
from .context import BlueprintContext
from .guardrail import AgentGuardrail, AgentGuardrailProps, policy_from_config
from .memory import AgentMemory

# ------------------------------------------------------------------ products


class BlueprintProductStack(servicecatalog.ProductStack):
    """A product template: one blueprint for one tenant and environment, its knobs as parameters.

    The template launches in the tenant's account, whose keys this
    (shared-services) stack cannot know: products encrypt with the account's
    catalog key, a CMK :class:`CatalogLaunchAccess` creates for them alone,
    found at launch through the SSM parameter :data:`KEY_PARAMETER`. The
    launch role may use that key and no other, and may not create or manage
    keys at all. Roles the blueprint creates carry the tenant's product
    boundary.
    """

    BLUEPRINT = ""
    TITLE = ""
    SUMMARY = ""
    SEPARATOR = "-"
    NAME_PATTERN = r"^[a-z][a-z0-9-]{0,19}$"
    NAME_HELP = "lowercase letters, digits and hyphens, starting with a letter, at most 20"

    def __init__(
        self, scope: Construct, construct_id: str, *, tenant: Tenant, environment: str, tags: dict[str, str]
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"AgentZone {self.TITLE} for {tenant.tenant} ({environment}), library {LIBRARY_VERSION}",
        )
        self.tenant_name = tenant.tenant
        self.environment_name = environment
        for key, value in sorted({**tags, PRODUCT_TAG: self.BLUEPRINT}.items()):
            cdk.Tags.of(self).add(key, value)
        self.launch_name = cdk.CfnParameter(
            self,
            "Name",
            type="String",
            allowed_pattern=self.NAME_PATTERN,
            constraint_description=self.NAME_HELP,
            description=f"Name of this {self.TITLE}, unique in the account; resources are named "
            + self.SEPARATOR.join((tenant.tenant.replace("-", self.SEPARATOR), "<name>", environment)),
        )
        key_arn = cdk.CfnDynamicReference(cdk.CfnDynamicReferenceService.SSM, KEY_PARAMETER).to_string()
        self.encryption_key = kms.Key.from_key_arn(self, "CatalogKey", key_arn)
        # Roles the blueprint creates can never do more than the tenant account's product boundary allows.
        iam.PermissionsBoundary.of(self).apply(
            iam.ManagedPolicy.from_managed_policy_name(self, "ProductBoundary", product_boundary_name(tenant.tenant))
        )
        self.context = BlueprintContext(
            tenant=tenant.tenant,
            environment=environment,
            encryption_key=self.encryption_key,
            tags=dict(sorted(tags.items())),
            models=tuple(tenant.models),
        )

    @property
    def resource_name(self) -> str:
        """``<tenant>-<Name parameter>-<environment>`` (``_`` for AgentCore names), resolved at launch."""
        return self.context.resource_name(self.launch_name.value_as_string, separator=self.SEPARATOR)


class MemoryProductStack(BlueprintProductStack):
    """An AgentCore Memory with the blueprint's default strategies (semantic, summary); expiry is a parameter.

    ``AgentMemory`` validates ``expiry_days`` at synth (7-365), so the
    construct is built with the default and the parameter, with the same
    bounds, takes the place of ``EventExpiryDuration`` in the template.
    """

    BLUEPRINT = MEMORY_PRODUCT
    TITLE = "memory"
    SUMMARY = "A CMK-encrypted, retained AgentCore Memory with semantic and summary extraction"
    SEPARATOR = "_"
    NAME_PATTERN = r"^[a-z][a-z0-9_]{0,19}$"
    NAME_HELP = "lowercase letters, digits and underscores, starting with a letter, at most 20"

    def __init__(
        self, scope: Construct, construct_id: str, *, tenant: Tenant, environment: str, tags: dict[str, str]
    ) -> None:
        super().__init__(scope, construct_id, tenant=tenant, environment=environment, tags=tags)
        defaults = MemoryResource()
        self.expiry_days = cdk.CfnParameter(
            self,
            "ExpiryDays",
            type="Number",
            min_value=7,
            max_value=365,
            default=defaults.expiry_days,
            description="Days AgentCore keeps raw events (7-365)",
        )
        self.memory = AgentMemory.from_config(
            self, "Memory", context=self.context, name=self.launch_name.value_as_string, config=defaults
        )
        cfn_memory = self.memory.memory.node.find_child("Memory")
        assert isinstance(cfn_memory, cdk.CfnResource)
        cfn_memory.add_property_override("EventExpiryDuration", self.expiry_days.value_as_number)
        cdk.CfnOutput(
            self,
            "MemoryId",
            value=self.memory.memory_id,
            description="Memory id for the agent (AGENTZONE_MEMORY_<NAME>_ID)",
        )
        cdk.CfnOutput(self, "MemoryArn", value=self.memory.memory_arn)


class GuardrailProductStack(BlueprintProductStack):
    """A Bedrock guardrail on the tenant's guardrail policy; its filter strengths are parameters.

    Denied topics, PII, words and grounding come from the tenant's
    ``blueprints.guardrail`` config (the library defaults without one). The
    construct validates strengths at synth, so it is built with the
    configured ones and the parameters (LOW, MEDIUM, HIGH: NONE would remove
    the filter) take their place in the template; the published version's
    description carries them, so changing one publishes a new version.
    """

    BLUEPRINT = GUARDRAIL_PRODUCT
    TITLE = "guardrail"
    SUMMARY = "A CMK-encrypted Bedrock guardrail with a published version, on the tenant's guardrail policy"

    def __init__(
        self, scope: Construct, construct_id: str, *, tenant: Tenant, environment: str, tags: dict[str, str]
    ) -> None:
        super().__init__(scope, construct_id, tenant=tenant, environment=environment, tags=tags)
        config = tenant.blueprints.guardrail or GuardrailBlueprint()
        self.guardrail = AgentGuardrail(
            self,
            "Guardrail",
            props=AgentGuardrailProps(
                guardrail_name=self.resource_name,
                encryption_key=self.encryption_key,
                models=tuple(tenant.models),
                policy=policy_from_config(config, self.context.tags),
                description=f"Guardrail of {tenant.tenant} agents ({environment}), launched from Service Catalog",
            ),
        )
        model_guardrail = self.guardrail.model_guardrail
        published: list[str] = []
        index = 0  # ModelGuardrail writes the content categories first, then PROMPT_ATTACK
        if config.content_filter_strength != "NONE":
            content = self._strength(
                "ContentFilterStrength", config.content_filter_strength, "harmful-content filters (prompts and answers)"
            )
            for _ in CONTENT_CATEGORIES:
                for side in ("InputStrength", "OutputStrength"):
                    model_guardrail.guardrail.add_property_override(
                        f"ContentPolicyConfig.FiltersConfig.{index}.{side}", content
                    )
                index += 1
            published += ["content", content]
        if config.prompt_attack_strength != "NONE":
            attack = self._strength(
                "PromptAttackStrength", config.prompt_attack_strength, "prompt-attack filter (prompts)"
            )
            model_guardrail.guardrail.add_property_override(
                f"ContentPolicyConfig.FiltersConfig.{index}.InputStrength", attack
            )
            published += ["prompt-attack", attack]
        if published:
            model_guardrail.published.add_property_override(
                "Description", cdk.Fn.join(" ", [self.resource_name, "policy", model_guardrail.fingerprint, *published])
            )
        cdk.CfnOutput(
            self, "GuardrailId", value=self.guardrail.guardrail_id, description="AGENTZONE_GUARDRAIL_ID for the agent"
        )
        cdk.CfnOutput(
            self,
            "GuardrailVersion",
            value=self.guardrail.version,
            description="AGENTZONE_GUARDRAIL_VERSION for the agent",
        )
        cdk.CfnOutput(self, "GuardrailArn", value=self.guardrail.guardrail_arn)

    def _strength(self, name: str, default: str, what: str) -> str:
        return cdk.CfnParameter(
            self,
            name,
            type="String",
            allowed_values=["LOW", "MEDIUM", "HIGH"],
            default=default,
            description=f"Strength of the {what}",
        ).value_as_string


# Blueprint registry name -> its product, in the order products are created.
OFFERED: dict[str, type[BlueprintProductStack]] = {
    cls.BLUEPRINT: cls for cls in (GuardrailProductStack, MemoryProductStack)
}

# ------------------------------------------------------------------ shared-services side


class TenantCatalog(Construct):
    """The tenant's portfolio in one environment's shared-services account.

    Shared with exactly one account: the tenant's account of this
    environment. The tenant's OUs would be the natural target, but their ids
    exist only once the governance stack (management account) has created
    them and no synth-time value carries them here; and the environment's OU
    of a tenant holds exactly that one account, so an account share grants
    the same access and nothing more. The tenant accepts the share once in
    that account (``aws servicecatalog accept-portfolio-share --portfolio-id
    <PortfolioId output>``) and associates the principals that may launch.

    Each product launches with the local role :func:`launch_role_name` of the
    account it launches in (created there by :class:`CatalogLaunchAccess`);
    nothing is created for it here.

    Tags are written into the product templates (the tenant's owner,
    cost-center, use-case-id and environment on every resource, plus
    :data:`PRODUCT_TAG`), not as TagOptions: a TagOption is unique per
    key and value in an account, and this account holds every tenant's
    portfolio (two tenants' ``environment=dev`` would collide).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tenant: Tenant,
        environment: str,
        tenant_account: str,
        tags: dict[str, str],
        support_email: str,
        snapshots: Path | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        snapshots = snapshots or Path(self.node.try_get_context(SNAPSHOT_DIR_CONTEXT) or SNAPSHOT_DIR)
        self.portfolio = servicecatalog.Portfolio(
            self,
            "Portfolio",
            display_name=portfolio_name(tenant.tenant, environment),
            provider_name=PROVIDER,
            description=f"AgentZone blueprints {tenant.tenant} launches in its {environment} account, "
            f"library {LIBRARY_VERSION}",
        )
        self.portfolio.share_with_account(tenant_account)
        self.launch_role_name = launch_role_name(tenant.tenant)
        launch_role = iam.Role.from_role_name(self, "LaunchRole", self.launch_role_name)
        self.products: dict[str, servicecatalog.CloudFormationProduct] = {}
        self.product_stacks: dict[str, BlueprintProductStack] = {}
        for blueprint, product_cls in OFFERED.items():
            key = pascal(blueprint)
            stack = product_cls(self, f"{key}Template", tenant=tenant, environment=environment, tags=tags)
            versions = ProductVersions.of(
                self, f"{key}History", product_stack=stack, summary=product_cls.SUMMARY, snapshots=snapshots
            )
            product = servicecatalog.CloudFormationProduct(
                self,
                f"{key}Product",
                product_name=f"AgentZone {product_cls.TITLE} ({tenant.tenant} {environment})",
                owner=PROVIDER,
                distributor=PROVIDER,
                description=product_cls.SUMMARY,
                support_email=support_email,
                product_versions=versions.all,
            )
            self.portfolio.add_product(product)
            self.portfolio.set_local_launch_role(product, launch_role)
            self.product_stacks[blueprint] = stack
            self.products[blueprint] = product
        cdk.CfnOutput(
            self,
            "PortfolioId",
            value=self.portfolio.portfolio_id,
            description=f"Accept this portfolio share in account {tenant_account}",
        )
