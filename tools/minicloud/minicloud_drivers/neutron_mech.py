"""ML2 mechanism driver that binds every port without an agent.

The minicloud has no hypervisor networking: Nova's test virt driver only needs
ports that are bound, with addresses from the subnet. This driver binds any
segment of any network type (flat or vxlan) and marks the port ACTIVE, the
way an agentless SDN controller driver would.
"""

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api
from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class MiniCloudMechanismDriver(api.MechanismDriver):
    """Bind every port on its first segment, no agent involved."""

    def initialize(self):
        LOG.info("minicloud mechanism driver initialized")

    @property
    def connectivity(self):
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID], portbindings.VIF_TYPE_OTHER,
                {portbindings.CAP_PORT_FILTER: False},
                status=constants.PORT_STATUS_ACTIVE)
            LOG.debug("bound port %s on segment %s",
                      context.current['id'], segment[api.ID])
            return
