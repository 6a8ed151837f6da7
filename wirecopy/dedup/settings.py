"""Dedup parameters. Definition thresholds follow ../shared/eval/README.md (docs/dedup.md gives the measurements)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from wirecopy.dedup.definition import Rules
from wirecopy.dedup.shingles import ShingleSpec


class DedupSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    shingle: str = Field("word:3", description="shingle kind and size of paragraphs of `min_tokens` words or more")
    short_shingle: str = Field("word:1", description="shingles of short paragraphs (titles, captions)")
    num_perm: int = Field(64, ge=8, le=512, description="MinHash permutations (datasketch affine32 scheme)")
    seed: int = Field(1, description="datasketch permutation seed")
    bands: int = Field(32, ge=1, description="LSH bands")
    rows: int = Field(2, ge=1, description="signature values per band")
    min_tokens: int = Field(8, ge=2, description="paragraphs with fewer words use `short_shingle`")
    short_min_tokens: int = Field(3, ge=1, description="paragraphs with fewer words are matched exactly only")
    prefilter_jaccard: float = Field(
        0.15, gt=0, le=1, description="exact shingle Jaccard for a candidate to reach the definition check"
    )
    prefilter_containment: float = Field(
        0.25, gt=0, le=1, description="… or the share of the shorter paragraph's shingles found in the longer one"
    )
    b1_shorter: float = Field(0.75, gt=0, le=1, description="B1: covered share of the shorter paragraph (~80 %)")
    b1_longer: float = Field(0.38, gt=0, le=1, description="B1: covered share of the longer paragraph (~40 %)")
    b2_each: float = Field(0.65, gt=0, le=1, description="B2: covered share of each paragraph")
    rewrites: bool = Field(True, description="accept rewrites (same facts condensed or reordered) below B1/B2")
    rewrite_runs: float = Field(0.5, gt=0, le=1, description="rewrite: copied runs' share of the shorter paragraph")
    rewrite_shorter: float = Field(
        0.8, gt=0, le=1, description="rewrite: share of the shorter's distinct words found in the longer"
    )
    rewrite_longer: float = Field(
        0.6, gt=0, le=1, description="rewrite: share of the longer's distinct words found in the shorter"
    )
    bucket_cap: int = Field(
        2000, ge=2, description="LSH buckets with more distinct texts are not used (links then depend on order)"
    )

    @field_validator("shingle", "short_shingle")
    @classmethod
    def _valid_shingle(cls, value: str) -> str:
        ShingleSpec.parse(value)
        return value

    @model_validator(mode="after")
    def _bands_fit(self) -> DedupSettings:
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands × rows ({self.bands}×{self.rows}) exceeds num_perm ({self.num_perm})")
        if self.short_min_tokens > self.min_tokens:
            raise ValueError(f"short_min_tokens ({self.short_min_tokens}) exceeds min_tokens ({self.min_tokens})")
        return self

    @property
    def shingle_spec(self) -> ShingleSpec:
        return ShingleSpec.parse(self.shingle)

    @property
    def short_shingle_spec(self) -> ShingleSpec:
        return ShingleSpec.parse(self.short_shingle)

    @property
    def rules(self) -> Rules:
        return Rules(
            b1_shorter=self.b1_shorter, b1_longer=self.b1_longer, b2_each=self.b2_each, rewrites=self.rewrites,
            rewrite_runs=self.rewrite_runs, rewrite_shorter=self.rewrite_shorter, rewrite_longer=self.rewrite_longer,
        )  # fmt: skip

    def candidate_probability(self, jaccard: float) -> float:
        """Probability that a pair with this Jaccard shares at least one LSH band."""
        return 1.0 - (1.0 - jaccard**self.rows) ** self.bands
