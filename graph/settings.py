"""One configuration object, read from CITYDIP_* environment variables."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Where the artefacts and the store live, and how the server behaves."""

    model_config = SettingsConfigDict(env_prefix="CITYDIP_")

    ontology_dir: Path = ROOT / "ontology"
    shapes_dir: Path = ROOT / "shapes"
    queries_dir: Path = ROOT / "queries"
    data_dir: Path = ROOT / "graph" / "data"
    store_path: Path | None = None
    """Directory of the embedded store; None keeps it in memory."""

    @property
    def rules_dir(self) -> Path:
        return self.queries_dir / "rules"


@lru_cache
def get_settings() -> Settings:
    return Settings()
