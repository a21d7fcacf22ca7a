"""The jinja2 templates of every notification, kept in Python so the package needs no data
files. HTML is autoescaped by its name; the text template is not (it is plain text)."""

TEXT = """\
Hello {{ recipient }},

{% if kind == "BOOKED" %}
An appointment was booked for {{ patient }} with {{ doctor }} ({{ specialty }}).
{% elif kind == "CONFIRMED" %}
{{ doctor }} confirmed the appointment of {{ patient }} ({{ specialty }}).
{% elif kind == "RESCHEDULED" %}
The appointment of {{ patient }} with {{ doctor }} ({{ specialty }}) was moved.
{% if previous %}
It was: {{ previous }}
{% endif %}
{% elif kind == "CANCELLED" %}
The appointment of {{ patient }} with {{ doctor }} ({{ specialty }}) was cancelled.
{% if reason %}
Reason: {{ reason }}
{% endif %}
{% elif kind == "REMINDER" %}
A reminder: {{ patient }} sees {{ doctor }} ({{ specialty }}) soon.
{% elif kind == "EMERGENCY" %}
{{ patient }} sent an emergency request:

{{ message }}
{% endif %}
{% if starts %}

When: {{ starts }}
{% endif %}
{% if meeting_link and kind != "CANCELLED" %}
Video link: {{ meeting_link }}
{% endif %}

AayuLink
"""

HTML = """\
<!doctype html>
<html>
<body style="font-family: sans-serif">
<p>Hello {{ recipient }},</p>
{% if kind == "BOOKED" %}
<p>An appointment was booked for <strong>{{ patient }}</strong> with
{{ doctor }} ({{ specialty }}).</p>
{% elif kind == "CONFIRMED" %}
<p>{{ doctor }} confirmed the appointment of <strong>{{ patient }}</strong> ({{ specialty }}).</p>
{% elif kind == "RESCHEDULED" %}
<p>The appointment of <strong>{{ patient }}</strong> with
{{ doctor }} ({{ specialty }}) was moved.</p>
{% if previous %}<p>It was: {{ previous }}</p>{% endif %}
{% elif kind == "CANCELLED" %}
<p>The appointment of <strong>{{ patient }}</strong> with
{{ doctor }} ({{ specialty }}) was cancelled.</p>
{% if reason %}<p>Reason: {{ reason }}</p>{% endif %}
{% elif kind == "REMINDER" %}
<p>A reminder: <strong>{{ patient }}</strong> sees {{ doctor }} ({{ specialty }}) soon.</p>
{% elif kind == "EMERGENCY" %}
<p><strong>{{ patient }}</strong> sent an emergency request:</p>
<blockquote>{{ message }}</blockquote>
{% endif %}
{% if starts %}<p>When: <strong>{{ starts }}</strong></p>{% endif %}
{% if meeting_link and kind != "CANCELLED" %}<p>Video link: {{ meeting_link }}</p>{% endif %}
<p>AayuLink</p>
</body>
</html>
"""
