"""The Jinja2 template of the ``gankit report`` page (rendered by :mod:`gankit.report.html`).

A Python string rather than a package data file, so it is installed with the code. The
environment escapes every ``{{ value }}`` (``autoescape=True``): run names, paths, config
text and labels cannot inject markup. Images arrive as ``{"src": data URI, "alt": text}``.
"""

from __future__ import annotations

__all__ = ["PAGE"]

PAGE = """\
{%- macro img(i) %}<img src="{{ i.src }}" alt="{{ i.alt }}">{% endmacro -%}
{%- set anim -%}
Training, one frame per evaluation: the discriminator's output (heatmap; dashed line: undecided, D = 0.5 for a
GAN), real (black) and generated (orange) samples, green arrows: where the generator's loss pushes each generated
sample, purple mesh: the generator's image of a regular latent grid (1-D data: densities and D(x)).
{%- endset -%}
<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{{ title }}</title>
<meta name='viewport' content='width=device-width, initial-scale=1'><style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1180px;padding:18px;
color:#1d232a;background:#fbfbfc;line-height:1.45}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.3em;border-bottom:2px solid #dde;padding-bottom:.2em;margin-top:1.6em}
h3{font-size:1.05em;margin:1em 0 .4em}.sub{color:#5a6470;font-size:.92em}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:.6em 0}
.card{background:#fff;border:1px solid #dde;border-radius:8px;padding:8px 12px;flex:1 1 230px;max-width:280px}
.card .v{font-size:1.5em;font-weight:600}.card .h{font-size:.8em;color:#5a6470}
.pics{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.pics figure{margin:0;background:#fff;border:1px solid #dde;border-radius:6px;padding:6px}
figcaption{font-size:.82em;color:#5a6470;max-width:460px}img{max-width:100%;height:auto;display:block}
table{border-collapse:collapse;background:#fff;font-size:.92em;margin:.5em 0}
th,td{border:1px solid #dde;padding:4px 9px;text-align:right}th{background:#eef1f5}td.l,th.l{text-align:left}
pre{background:#f1f3f6;padding:10px;border-radius:6px;overflow:auto;font-size:.85em}
.warn{background:#fff4d6;border:1px solid #e8c35a;border-radius:6px;padding:8px 12px;margin:.6em 0}
.run{border-top:1px solid #dde;margin-top:1.4em}details summary{cursor:pointer;color:#34506b}
</style></head><body>
<h1>{{ title }}</h1>
<p class='sub'>{{ runs | length }} run{{ 's' if runs | length != 1 }} · written {{ now }} by gankit report
{%- if runs | length > 1 %} · runs:
  {%- for r in runs %} <a href='#{{ r.anchor }}'>{{ r.name }}</a>{{ ',' if not loop.last }}{% endfor %}
{%- endif %}</p>
{% if comparison %}
<h2 id='comparison'>Comparison</h2>
<p class='sub'>Runs with the same config except the seed form a group; each cell is the mean ± sample standard
deviation (n − 1) of the final metric over the group's seeds.</p>
{% if comparison.unfinished %}
<div class='warn'><b>Left out of the comparison</b> (unfinished, no metrics.json): {{ comparison.unfinished }}</div>
{% endif %}
{% if comparison.datas | length > 1 %}
<div class='warn'><b>Different data sources</b>: these runs use {{ comparison.datas | length }} data sources
({{ comparison.datas | join(', ') }}). Metrics are comparable only on the same data, so each data source has its
own comparison below.</div>
{% endif %}
{% for section in comparison.sections %}
<h3>Data: {{ section.data }}</h3>
<table><tr><th class='l'>group</th><th>seeds</th>
  {%- for name in comparison.columns %}<th>{{ name }}</th>{% endfor %}<th class='l'>runs</th></tr>
{% for g in section.rows %}
<tr><td class='l'>{{ g.label }}</td><td>{{ g.n }} ({{ g.seeds }})</td>
  {%- for cell in g.cells %}<td>{{ cell }}</td>{% endfor %}<td class='l'>
  {%- for r in g.runs %}<a href='#{{ r.anchor }}'>{{ r.name }}</a>{{ ', ' if not loop.last }}{% endfor %}</td></tr>
{% endfor %}
</table>
{% if section.curves %}
<div class='pics'><figure>{{ img(section.curves) }}<figcaption>Thick line: mean over seeds; band: ± one standard
deviation; thin lines: single seeds.</figcaption></figure></div>
{% endif %}
{% endfor %}
{% endif %}
{% for run in sections %}
<section class='run'>
<h2 id='{{ run.anchor }}'>{{ run.name }}</h2>
<p class='sub'>data <b>{{ run.data }}</b> · objective <b>{{ run.objective }}</b> · {{ run.step }} of {{ run.steps }}
generator steps · seed {{ run.seed }}{% if run.wall_time %} · {{ run.wall_time }} s{% endif %} ·
<span class='sub'>{{ run.path }}</span></p>
{% if not run.finished %}
<div class='warn'><b>Unfinished run</b> (no metrics.json: still training, or interrupted). Numbers are those of its
last evaluation, at step {{ run.step }}; it is left out of comparisons.</div>
{% endif %}
{% if run.said %}
<p><b>In short:</b> {{ run.said }}.</p>
{% endif %}
{% if run.cards or run.estimate or run.other %}
<div class='cards'>
  {%- for c in run.cards %}<div class='card'><div>{{ c.name }}</div><div class='v'>{{ c.value }}</div>
<div class='h'>{{ c.help }}</div></div>{% endfor %}
  {%- if run.estimate %}<div class='card'><div>estimate</div><div class='v'>{{ run.estimate.value }}</div>
<div class='h'>{{ run.estimate.label }}, from the discriminator's outputs on the last batches (mean since the
previous evaluation)</div></div>{% endif %}
  {%- if run.other %}<div class='card'><div>other final numbers</div><div class='h'>
  {%- for k, v in run.other %}{{ k }} = {{ v }}{{ '<br>' | safe if not loop.last }}{% endfor %}</div></div>
  {%- endif %}</div>
{% endif %}
{% if run.samples or run.animation or run.frames %}
<h3>Pictures</h3><div class='pics'>
  {%- if run.samples %}<figure>{{ img(run.samples) }}<figcaption>Final samples: real data (black), generated
samples (yellow) over the discriminator's output (heatmap).</figcaption></figure>{% endif %}
  {%- if run.animation %}<figure>{{ img(run.animation) }}<figcaption>{{ anim }}</figcaption></figure>
  {%- elif run.frames %}<figure>{{ img(run.frames) }}<figcaption>So far (unfinished run). {{ anim }}</figcaption>
</figure>{% endif %}</div>
{% endif %}
{% if run.curves %}
<h3>Curves over training</h3><div class='pics'><figure>{{ img(run.curves) }}<figcaption>Losses are means since the
previous evaluation; metrics are computed at each evaluation on fresh samples.</figcaption></figure></div>
{% endif %}
<h3>Config</h3><details open><summary>config.toml</summary><pre>{{ run.config_text }}</pre></details></section>
{% endfor %}
</body></html>
"""
