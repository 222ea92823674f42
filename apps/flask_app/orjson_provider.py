"""orjson behind Flask's JSON hook: Flask's docs name `app.json` (a JSONProvider) as the way
to use another JSON library, and jsonify() then encodes with it."""
import orjson
from flask.json.provider import DefaultJSONProvider


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj, **kwargs):
        # Flask sorts keys by default; orjson does when asked, so the bodies stay the same.
        return orjson.dumps(obj, default=self.default, option=orjson.OPT_SORT_KEYS).decode()

    def loads(self, s, **kwargs):
        return orjson.loads(s)
