"""The core: settings, database, models, domain names, workflow, audit chain, users and roles, ISP registry."""
