def content_length(get_response):
    """The one line of CommonMiddleware that the stripped variant keeps."""

    def middleware(request):
        response = get_response(request)
        if not response.streaming:
            response.headers["Content-Length"] = str(len(response.content))
        return response

    return middleware
