"""Dedup parameters. Defaults were chosen on the quality harness (`bench/dedup_quality.py`, docs/dedup.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from wirecopy.dedup.shingles import ShingleSpec


class DedupSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    shingle: str = Field("word:3", description="shingle kind and size: word:N or char:N")
    num_perm: int = Field(64, ge=8, le=512, description="MinHash permutations (datasketch affine32 scheme)")
    seed: int = Field(1, description="datasketch permutation seed")
    bands: int = Field(32, ge=1, description="LSH bands")
    rows: int = Field(2, ge=1, description="signature values per band")
    min_tokens: int = Field(8, ge=1, description="paragraphs with fewer tokens are matched exactly only")
    near_threshold: float = Field(0.45, gt=0, le=1, description="exact shingle Jaccard for a 'near' link")
    containment_threshold: float = Field(
        0.8, gt=0, le=1, description="share of the shorter paragraph's shingles found in the longer one"
    )
    bucket_cap: int = Field(50, ge=2, description="LSH buckets with more distinct texts are not used")

    @field_validator("shingle")
    @classmethod
    def _valid_shingle(cls, value: str) -> str:
        ShingleSpec.parse(value)
        return value

    @model_validator(mode="after")
    def _bands_fit(self) -> DedupSettings:
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands × rows ({self.bands}×{self.rows}) exceeds num_perm ({self.num_perm})")
        return self

    @property
    def shingle_spec(self) -> ShingleSpec:
        return ShingleSpec.parse(self.shingle)

    def candidate_probability(self, jaccard: float) -> float:
        """Probability that a pair with this Jaccard shares at least one LSH band."""
        return 1.0 - (1.0 - jaccard**self.rows) ** self.bands
