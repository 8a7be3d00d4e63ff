"""Go text/template as Rancher 1.6 ran catalog files through it: each case is what Go prints."""

import pytest

from ansible_collections.paddock.platform.plugins.module_utils._gotemplate import TemplateError, render, templated

VALUES = {"on": "true", "off": "false", "empty": "", "name": "web", "port": "8080", "list": "a,b,c",
          "args": 'run --name "my app" -v'}
STACK = {"Name": "Traefik", "Version": "v1.7.18"}

# (template, what Go's text/template with Sprig prints for it)
CASES = [
    # values, fields and printing
    ("{{ .Values.name }}:{{ .Values.port }}", "web:8080"),
    ("[{{ .Values.never_asked }}]", "[]"),  # a map[string]string: a missing answer is ""
    ("{{ .Stack.Name }} {{ .Release.Version }}", "Traefik v1.7.18"),
    ("{{ 3 }} {{ 1.5 }} {{ true }} {{ nil }} {{ \"s\" }} {{ `raw\\n` }}", "3 1.5 true <no value> s raw\\n"),
    ("{{ list 1 \"a\" true }}", "[1 a true]"),
    # trim markers and comments
    ("a  {{- .Values.name -}}  b", "awebb"),
    ("line\n{{- if .Values.on }}\n  kept\n{{- end }}\n", "line\n  kept\n"),
    ("x{{/* a comment */}}y{{- /* trimmed */ -}} z", "xyz"),
    ("{{ 3 -}} {{- 4 }}", "34"),
    # conditions
    ("{{ if eq .Values.on \"true\" }}yes{{ else }}no{{ end }}", "yes"),
    ("{{ if eq .Values.off \"true\" }}yes{{ else }}no{{ end }}", "no"),
    ("{{ if .Values.empty }}set{{ else if .Values.name }}name{{ else }}none{{ end }}", "name"),
    ("{{ if ne .Values.empty \"\" }}set{{ end }}", ""),
    ("{{ if (.Values.port) }}has port{{ end }}", "has port"),
    ("{{ if or (eq .Values.name \"api\") (eq .Values.on \"true\") }}either{{ end }}", "either"),
    ("{{ if and .Values.name (not .Values.empty) }}both{{ end }}", "both"),
    ("{{ eq .Values.name \"api\" \"web\" \"db\" }} {{ lt 1 2 }} {{ ge \"b\" \"a\" }}", "true true true"),
    ("{{ and 1 0 2 }} {{ or 0 \"\" \"x\" }} {{ or 0 \"\" }}", "0 x "),
    # variables, with, range
    ("{{ $p := .Values.port }}{{ $p }}{{ $p = \"9\" }}{{ $p }}", "80809"),
    ("{{ with .Values.name }}<{{ . }}>{{ else }}none{{ end }}{{ with .Values.empty }}x{{ else }}none{{ end }}",
     "<web>none"),
    ("{{ range splitList \",\" .Values.list }}[{{ . }}]{{ end }}", "[a][b][c]"),
    ("{{ range $i, $v := splitList \",\" .Values.list }}{{ $i }}={{ $v }} {{ end }}", "0=a 1=b 2=c "),
    ("{{ range $k, $v := dict \"b\" 2 \"a\" 1 }}{{ $k }}{{ $v }}{{ end }}", "a1b2"),
    ("{{ range list }}x{{ else }}nothing{{ end }}", "nothing"),
    ("{{ range until 3 }}{{ $.Values.name }}{{ . }} {{ end }}", "web0 web1 web2 "),
    # pipelines and functions
    ("{{ .Values.empty | default \"8000\" }} {{ .Values.port | default \"8000\" }}", "8000 8080"),
    ("{{ .Values.name | upper | quote }} {{ squote .Values.name }}", "\"WEB\" 'web'"),
    ("{{ printf \"%s-%d-%v-%q\" .Values.name 7 true \"x\" }}", "web-7-true-\"x\""),
    ("{{ print \"a\" 1 2 \"b\" }} {{ len .Values.list }} {{ index .Values \"name\" }}", "a1 2b 5 web"),
    ("{{ add 1 .Values.port }} {{ sub 10 3 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ mod 7 2 }} {{ atoi \"42\" }}",
     "8081 7 24 3 1 42"),
    ("{{ join \";\" (splitList \",\" .Values.list) }} {{ contains \"eb\" .Values.name }} "
     "{{ hasPrefix \"w\" .Values.name }} {{ replace \",\" \"+\" .Values.list }}", "a;b;c true true a+b+c"),
    ("{{ trimSuffix \"0\" .Values.port }} {{ trunc 2 .Values.name }} {{ ternary \"y\" \"n\" true }}", "808 we y"),
    ("{{ range splitPreserveQuotes .Values.args }}<{{ . }}>{{ end }}", "<run><--name><\"my app\"><-v>"),
    ("{{ indent 2 \"a\\nb\" }}|{{ nindent 2 \"c\" }}", "  a\n  b|\n  c"),
    ("{{ regexReplaceAll \"[0-9]\" .Values.port \"x\" }} {{ b64enc \"hi\" }}", "xxxx aGk="),
    ("{{ empty .Values.empty }} {{ coalesce .Values.empty .Values.name }} {{ toString 5 }}", "true web 5"),
]


@pytest.mark.parametrize("template,expected", CASES, ids=[c[0][:40] for c in CASES])
def test_a_template_prints_what_go_prints(template, expected):
    assert render(template, VALUES, STACK) == expected


# (template, the error, with its line)
ERRORS = [
    ("a\n{{ if .Values.on }}\nb\n", "line 2: unexpected EOF: {{if}} has no {{end}}"),
    ("{{ end }}", "line 1: unexpected {{end}}"),
    ("{{ else }}", "line 1: unexpected {{else}}"),
    ("{{ if 1 }}{{ else }}{{ else }}{{ end }}", "line 1: expected end; found else"),
    ("x\ny\n{{ toYaml .Values }}", 'line 3: function "toYaml" not defined'),
    ("{{ define \"x\" }}{{ end }}", "line 1: {{define}} is not supported by Paddock"),
    ("{{ .Stack.Owner }}", "line 1: can't evaluate field Owner in .Stack"),
    ("{{ .Nothing }}", "line 1: can't evaluate field Nothing in the data"),
    ("{{ .Values.name.first }}", "line 1: can't evaluate field first in type string"),
    ("{{ eq .Values.port 8080 }}", "line 1: error calling eq: incompatible types for comparison"),
    ("{{ lt true false }}", "line 1: error calling lt: invalid type for comparison"),
    ("{{ div 1 0 }}", "line 1: error calling div: integer divide by zero"),
    ("{{ $x }}", 'line 1: undefined variable "$x"'),
    ("{{ (.Values.on }}", "line 1: unclosed left paren"),
    ("{{ \"a\" \"b\" }}", 'line 1: can\'t give argument to non-function "a"'),
    ("{{ .Values.on | .Values.off }}", "line 1: can't give argument to non-function .Values.off"),
    ("{{ .Values.on", "line 1: unclosed action"),
    ("{{ /* open", "line 1: unexpected '/' in action"),
    ("{{/* open }}", "line 1: unclosed comment"),
    ("{{ index (list 1) 3 }}", "line 1: error calling index: index out of range: 3"),
    ("{{ range 1.5 }}{{ end }}", "line 1: range can't iterate over 1.5"),
    ("{{ upper }}", "line 1: wrong number of args for upper: got 0"),
    ("{{ has 1 2 }}", "line 1: error calling has: argument of type 'int' is not iterable"),
]


@pytest.mark.parametrize("template,expected", ERRORS, ids=[e[1] for e in ERRORS])
def test_a_broken_template_names_its_line_and_problem(template, expected):
    with pytest.raises(TemplateError) as raised:
        render(template, VALUES, STACK)
    assert str(raised.value) == expected


def test_a_file_marked_notemplating_and_a_file_without_actions_are_left_alone():
    marked = "# notemplating\nlabels:\n  key: \"{{ value }}\"\n"
    assert not templated(marked) and render(marked, VALUES) == marked
    assert render("#notemplating\n{{ x", VALUES) == "#notemplating\n{{ x"
    plain = "image: ${image}\ncommand: echo $$HOME\n"
    assert not templated(plain) and render(plain, VALUES) == plain
