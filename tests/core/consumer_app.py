"""The app a test consumer process runs: `flask --app tests.core.consumer_app worker`,
configured by the environment (DATABASE_URL, WANGGE_INSTANCE_PATH, WANGGE_JOBS_*)."""

from core import create_app
from tests.core import jobs_plugin

app = create_app(extra_plugins=[jobs_plugin])
