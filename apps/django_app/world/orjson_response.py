"""JsonResponse with orjson doing the encoding: Django has no JSON-library setting, so the way
its users switch is a response class of their own with JsonResponse's signature."""
import orjson
from django.http import HttpResponse


class OrjsonResponse(HttpResponse):
    def __init__(self, data, safe=True, **kwargs):
        if safe and not isinstance(data, dict):
            raise TypeError("In order to allow non-dict objects to be serialized set the safe parameter to False.")
        kwargs.setdefault("content_type", "application/json")
        super().__init__(content=orjson.dumps(data), **kwargs)
