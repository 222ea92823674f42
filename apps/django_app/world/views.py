import random

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from .forms import MessageForm
from .models import AuditEntry, Fortune, World

if getattr(settings, "FDBENCH_APP_JSON", "") == "orjson":  # chosen once, at import
    from .orjson_response import OrjsonResponse as JsonResponse  # noqa: F811


def query_count(request):
    """The TechEmpower rule: 1..500, anything unparsable or below 1 counts as 1.
    A repeated parameter counts by its first value, as in Flask (QueryDict.get takes the last)."""
    try:
        n = int(request.GET.getlist("queries", [1])[0])
    except ValueError:
        return 1
    return min(max(n, 1), 500)


def random_worlds(n):
    # Distinct ids, the same rule as the Flask app: one SELECT per row.
    return [World.objects.get(id=i) for i in random.sample(range(1, 10001), n)]


def new_random_number(old):
    """A random number other than `old`, uniform over the other 9,999: an unchanged value would
    let an ORM skip the row's UPDATE, and every app must write every row on every request."""
    number = random.randint(1, 9999)
    return number + 1 if number >= old else number


def json(request):
    return JsonResponse({"message": "Hello, World!"})


def plaintext(request):
    return HttpResponse("Hello, World!", content_type="text/plain")


def single_query(request):
    return JsonResponse(random_worlds(1)[0].to_dict())


def queries(request):
    return JsonResponse([w.to_dict() for w in random_worlds(query_count(request))], safe=False)


def fortunes(request):
    rows = list(Fortune.objects.all())
    rows.append(Fortune(id=0, message="Additional fortune added at request time."))
    rows.sort(key=lambda f: f.message)
    return render(request, "world/fortunes.html", {"fortunes": rows})


def updates(request):
    worlds = random_worlds(query_count(request))
    with transaction.atomic():
        for world in worlds:
            world.randomnumber = new_random_number(world.randomnumber)
            world.save(update_fields=["randomnumber"])
    return JsonResponse([w.to_dict() for w in worlds], safe=False)


def twodb(request):
    """One request, two databases: a World row from "default", its audit entry written to and
    counted in "audit" (world/routers.py sends AuditEntry there)."""
    world = random_worlds(1)[0]
    entry = AuditEntry.objects.create(world_id=world.id, randomnumber=world.randomnumber)
    logged = AuditEntry.objects.filter(world_id=world.id).count()
    return JsonResponse({**world.to_dict(), "auditId": entry.id, "logged": logged})


def form(request):
    """A small state-changing form, as the Django tutorial writes one."""
    if request.method == "POST":
        form = MessageForm(request.POST)
        if form.is_valid():
            messages.info(request, f"You said: {form.cleaned_data['message']}")
            return redirect("form")
    else:
        form = MessageForm()
    return render(request, "world/form.html", {"form": form})
