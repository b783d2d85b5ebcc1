# Copy to instance/config.py and adjust. Environment variables override these.
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://wangge:secret@127.0.0.1/wangge"
# ENV_NAME = "production"
# REDIS_URL = "redis://127.0.0.1:6379/0"
# LOGIN_RATE_LIMIT = "10 per 5 minutes"
# PLUGINS = ["affairs", "inquiry"]
