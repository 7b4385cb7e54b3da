import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from hypothesis import settings  # noqa: E402

settings.register_profile("default", max_examples=30, deadline=None)
settings.load_profile("default")
