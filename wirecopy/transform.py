"""Transform stage: raw document → clean document → paragraphs. Pure functions, no I/O, no Prefect."""

from __future__ import annotations

from dataclasses import dataclass

from wirecopy.cleaning.language import detect_language, detect_languages
from wirecopy.cleaning.plaintext import clean_plaintext
from wirecopy.dedup.engine import text_hash
from wirecopy.dedup.normalize import normalize_batch
from wirecopy.models import CleanDocument, ContentType, IngestError, RawDocument, content_hash


def clean_document(raw: RawDocument) -> CleanDocument | IngestError:
    """Strip boilerplate (trafilatura for HTML, then our plain-text rules) and split into paragraphs."""
    fields = _cleaned_fields(raw)
    if isinstance(fields, IngestError):
        return fields
    if fields["language"] is None:
        fields["language"] = detect_language("\n".join(fields["paragraphs"]))
    return CleanDocument(**fields)


def clean_documents(raws: list[RawDocument]) -> tuple[list[tuple[RawDocument, CleanDocument]], list[IngestError]]:
    """Clean a batch: (raw, clean) pairs and errors. One broken document becomes an error, never an exception.
    The languages left to decide are decided together (`detect_languages`)."""
    cleaned: list[tuple[RawDocument, dict | IngestError]] = []
    for raw in raws:
        try:
            cleaned.append((raw, _cleaned_fields(raw)))
        except Exception as error:
            cleaned.append((raw, _failed(raw, error)))
    _decide_languages(cleaned)
    documents, errors = [], []
    for raw, fields in cleaned:
        if not isinstance(fields, IngestError):
            try:
                documents.append((raw, CleanDocument(**fields)))
                continue
            except Exception as error:
                fields = _failed(raw, error)
        errors.append(fields)
    return documents, errors


def _decide_languages(cleaned: list[tuple[RawDocument, dict | IngestError]]) -> None:
    """Fill in the languages still None, all at once; should that fail, one by one (a document whose language
    cannot be decided becomes an error, as any other failure to clean it)."""
    undecided = [i for i, (_, fields) in enumerate(cleaned) if isinstance(fields, dict) and fields["language"] is None]
    try:
        languages = detect_languages(["\n".join(cleaned[i][1]["paragraphs"]) for i in undecided])
    except Exception:
        languages = None
    for position, i in enumerate(undecided):
        raw, fields = cleaned[i]
        try:
            if languages is None:
                fields["language"] = detect_language("\n".join(fields["paragraphs"]))
            else:
                fields["language"] = languages[position]
        except Exception as error:
            cleaned[i] = (raw, _failed(raw, error))


def _failed(raw: RawDocument, error: Exception) -> IngestError:
    return IngestError(source_uri=raw.source_uri, stage="clean", reason=f"{type(error).__name__}: {error}")


def _cleaned_fields(raw: RawDocument) -> dict | IngestError:
    """A clean document's fields, its language None when neither the page nor the caller knows it yet."""
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
    title = title or raw.entry_title  # a feed entry's, where the page and the source gave none
    published = published or raw.entry_published_at
    cleaned = clean_plaintext(text, outlet=raw.outlet)
    if not cleaned.paragraphs:
        return IngestError(
            source_uri=raw.source_uri, stage="clean", reason="no body text left after boilerplate removal"
        )
    return {
        "doc_id": raw.doc_id,
        "source_uri": raw.source_uri,
        "outlet": raw.outlet,
        "title": title,
        "author": author,
        "published_at": published,
        "fetched_at": raw.fetched_at,
        "canonical_url": canonical,
        "language": language,
        "paragraphs": cleaned.paragraphs,
        "removed": cleaned.removed,
    }


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


def paragraph_lists(documents: list[CleanDocument]) -> tuple[list[str], list[int], list[str]]:
    """Every paragraph of the documents, in order: its document's id, its position and its text."""
    doc_ids = [doc.doc_id for doc in documents for _ in doc.paragraphs]
    positions = [position for doc in documents for position in range(len(doc.paragraphs))]
    texts = [text for doc in documents for text in doc.paragraphs]
    return doc_ids, positions, texts


def paragraphs_of(documents: list[CleanDocument]) -> list[ParagraphRow]:
    """Paragraph rows with their matching form, normalised in one batch; ids derive from (doc_id, position)."""
    doc_ids, positions, texts = paragraph_lists(documents)
    ids, normalized, hashes, counts = paragraph_fields(doc_ids, positions, texts)
    columns = (ids, doc_ids, positions, texts, normalized, hashes, counts)
    return [ParagraphRow(*fields) for fields in zip(*columns, strict=True)]


def paragraph_fields(
    doc_ids: list[str], positions: list[int], texts: list[str]
) -> tuple[list[str], list[str], list[int], list[int]]:
    """For each paragraph (its document, position and text): its id, matching form, text hash and token count."""
    normalized = normalize_batch(texts)
    ids = [content_hash(f"{doc_id}\x00{position}") for doc_id, position in zip(doc_ids, positions, strict=True)]
    return ids, normalized, [text_hash(norm) for norm in normalized], [len(norm.split()) for norm in normalized]
