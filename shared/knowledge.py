"""Self-service answers: each queue's small knowledge base (the policy's `knowledge`),
and the articles that best match what a customer wrote, ranked by BM25 (bm25s). An
index is built once per policy; a lookup costs one BM25 query over that queue's
articles, never more."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import bm25s

from .policy import Article, Policy

MIN_SCORE = 0.3  # below this a match is a shared common word, not an answer


@dataclass(frozen=True)
class Suggestion:
    id: str
    question: str
    answer: str
    url: str | None
    score: float

    def view(self) -> dict:
        return {"id": self.id, "question": self.question, "answer": self.answer, "url": self.url}


def _tokens(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords="en", return_ids=False, show_progress=False)


class _Index:
    def __init__(self, articles: list[Article]):
        self.articles = articles
        self.bm25 = bm25s.BM25()
        self.bm25.index(_tokens([f"{a.question} {' '.join(a.keywords)} {a.answer}" for a in articles]),
                        show_progress=False)

    def search(self, text: str, k: int, min_score: float) -> list[Suggestion]:
        query = _tokens([text])
        if not query[0]:
            return []
        found, scores = self.bm25.retrieve(query, k=min(k, len(self.articles)), show_progress=False)
        return [Suggestion(a.id, a.question, a.answer, a.url, float(score))
                for a, score in ((self.articles[int(i)], s) for i, s in zip(found[0], scores[0], strict=True))
                if score >= min_score]


class KnowledgeBase:
    """Every queue's articles of one policy, indexed."""

    def __init__(self, articles: Mapping[str, list[Article]]):
        self._indexes = {queue: _Index(list(found)) for queue, found in articles.items() if found}

    @classmethod
    def of(cls, policy: Policy) -> KnowledgeBase:
        return cls({name: q.knowledge for name, q in policy.queues.items()})

    def suggest(self, queue: str, text: str, k: int = 3, min_score: float = MIN_SCORE) -> list[Suggestion]:
        """The best `k` articles of the queue for `text`, best first (none: nothing fits)."""
        index = self._indexes.get(queue)
        return index.search(text, k, min_score) if index and text.strip() else []
