"""Deploy a SAM template into the local engine, as `sam deploy` would into AWS."""

from local_tools.sam.deploy import DeployedStack, deploy_sam_template, load_template, translate

__all__ = ["DeployedStack", "deploy_sam_template", "load_template", "translate"]
