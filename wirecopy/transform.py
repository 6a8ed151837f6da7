"""Transform stage: raw document → clean document → paragraphs. Pure functions, no I/O, no Prefect."""

from __future__ import annotations

from dataclasses import dataclass

from wirecopy.cleaning.language import detect_language
from wirecopy.cleaning.plaintext import clean_plaintext
from wirecopy.dedup.engine import text_hash
from wirecopy.dedup.normalize import normalize_batch
from wirecopy.models import CleanDocument, ContentType, IngestError, RawDocument, content_hash


def clean_document(raw: RawDocument) -> CleanDocument | IngestError:
    """Strip boilerplate (trafilatura for HTML, then our plain-text rules) and split into paragraphs."""
    title, author, published, canonical, language = raw.title, None, raw.published_at, raw.url, None
    text = raw.content
    if raw.content_type is ContentType.HTML:
        from wirecopy.cleaning.html import extract_html  # trafilatura is slow to import; text runs skip it

        extracted = extract_html(raw.content, url=raw.url)
        if not extracted.text:
            return IngestError(source_uri=raw.source_uri, stage="clean", reason="HTML page has no article text")
        text = extracted.text
        title = title or extracted.title
        author = extracted.author
        published = published or extracted.published_at
        canonical = extracted.canonical_url or canonical
        language = extracted.language
    cleaned = clean_plaintext(text, outlet=raw.outlet)
    if not cleaned.paragraphs:
        return IngestError(
            source_uri=raw.source_uri, stage="clean", reason="no body text left after boilerplate removal"
        )
    return CleanDocument(
        doc_id=raw.doc_id,
        source_uri=raw.source_uri,
        outlet=raw.outlet,
        title=title,
        author=author,
        published_at=published,
        fetched_at=raw.fetched_at,
        canonical_url=canonical,
        language=language or detect_language("\n".join(cleaned.paragraphs)),
        paragraphs=cleaned.paragraphs,
        removed=cleaned.removed,
    )


def clean_documents(raws: list[RawDocument]) -> tuple[list[tuple[RawDocument, CleanDocument]], list[IngestError]]:
    """Clean a batch: (raw, clean) pairs and errors. One broken document becomes an error, never an exception."""
    documents, errors = [], []
    for raw in raws:
        try:
            cleaned = clean_document(raw)
        except Exception as error:
            cleaned = IngestError(source_uri=raw.source_uri, stage="clean", reason=f"{type(error).__name__}: {error}")
        if isinstance(cleaned, IngestError):
            errors.append(cleaned)
        else:
            documents.append((raw, cleaned))
    return documents, errors


@dataclass(frozen=True, slots=True)
class ParagraphRow:
    """One paragraph of a clean document as the load stage plans and writes it: the fields of `models.Paragraph`,
    built without a pydantic object per paragraph (validation of values computed right here only cost time)."""

    paragraph_id: str
    doc_id: str
    position: int
    text: str
    normalized: str
    text_hash: int
    token_count: int

    def model_dump(self, exclude: set[str] | frozenset[str] = frozenset()) -> dict:
        """The fields as a dict (as `Paragraph.model_dump`), without those in `exclude`."""
        return {name: getattr(self, name) for name in self.__slots__ if name not in exclude}


def paragraphs_of(documents: list[CleanDocument]) -> list[ParagraphRow]:
    """Paragraph rows with their matching form, normalised in one batch; ids derive from (doc_id, position)."""
    texts = [(doc.doc_id, position, text) for doc in documents for position, text in enumerate(doc.paragraphs)]
    normalized = normalize_batch([text for _, _, text in texts])
    return [
        ParagraphRow(content_hash(f"{doc_id}\x00{position}"), doc_id, position, text, norm, text_hash(norm),
                     len(norm.split()))
        for (doc_id, position, text), norm in zip(texts, normalized, strict=True)
    ]  # fmt: skip
