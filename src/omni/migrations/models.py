"""Every domain's tables, imported so that one metadata describes the whole schema."""

from omni.accounts import models as accounts_models
from omni.catalog import models as catalog_models
from omni.channels import models as channels_models
from omni.db.base import Base
from omni.events import models as events_models
from omni.identity import models as identity_models
from omni.inventory import models as inventory_models
from omni.journeys import models as journeys_models
from omni.orders import models as orders_models
from omni.profiles import models as profiles_models
from omni.segments import models as segments_models

DOMAIN_MODELS = (
    accounts_models,
    catalog_models,
    channels_models,
    events_models,
    identity_models,
    inventory_models,
    journeys_models,
    orders_models,
    profiles_models,
    segments_models,
)
metadata = Base.metadata
