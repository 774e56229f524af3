"""The wire shapes: each response model of api/schemas.py has exactly the fields of the library value
it carries (``to_dict`` of rag/types.py), so /docs and the JSON cannot drift apart."""

from __future__ import annotations

from api.schemas import AnswerOut, ArticleMetaOut, CitationOut, HitOut, RagInfo


def test_response_models_have_the_fields_of_the_library_values(fake_engine):
    answer = fake_engine.ask("产业互联网和消费互联网有什么区别？", mode="retrieval")
    assert answer.citations and answer.hits
    shapes = [
        (CitationOut, answer.citations[0].to_dict()),
        (HitOut, answer.hits[0].to_dict()),
        (ArticleMetaOut, answer.hits[0].article.to_dict()),
        # The API adds the question log's feedback_id to an answer.
        (AnswerOut, {**answer.to_dict(), "feedback_id": None}),
    ]
    for model, value in shapes:
        assert set(model.model_fields) == set(value), model.__name__
        # The value passes the model's own validation: types agree too.
        assert model.model_validate(value).model_dump() == value, model.__name__
    info = {key: answer.to_dict()[key] for key in ("mode", "grounded", "degraded", "refused")}
    assert RagInfo.model_validate(info).model_dump() == info
