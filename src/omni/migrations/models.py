"""Every domain's tables, imported so that one metadata describes the whole schema."""

from omni.accounts import models as accounts_models
from omni.catalog import models as catalog_models
from omni.db.base import Base
from omni.events import models as events_models
from omni.identity import models as identity_models
from omni.profiles import models as profiles_models

DOMAIN_MODELS = (accounts_models, catalog_models, events_models, identity_models, profiles_models)
metadata = Base.metadata
