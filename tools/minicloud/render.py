"""Configuration files: templates/<service>/<file> -> $MINICLOUD_HOME/etc.

Templates are the real files with ``string.Template`` placeholders
(``${home}``, ``${service_password}``, ...; see ``values``), so that they
can be compared with the upstream sample configs. A component's templates
(templates/components/<component>/<service>/<file>) either create a file
or, when the core already wrote it, set their options in it.
"""

import os
import pwd
import re
import shutil
import string

from tools.minicloud import paths

CORE = ('keystone', 'glance', 'placement', 'nova', 'cinder', 'neutron',
        'swift')
# Paste pipelines used as shipped in the venv.
PASTE_COPIES = ('glance/glance-api-paste.ini', 'nova/api-paste.ini',
                'neutron/api-paste.ini')
_SECTION = re.compile(r'^\s*\[([^\]]+)\]\s*$')
_OPTION = re.compile(r'^\s*([^#;=\s][^=]*?)\s*=\s?(.*)$')


def values(s, service_password):
    """The placeholder values of every template."""
    return {
        'home': s.home, 'etc': s.etc, 'vbin': s.vbin, 'host': paths.HOST,
        'region': paths.REGION, 'transport_url': paths.TRANSPORT,
        'postgresql': paths.PG.rstrip('/'), 'mysql_user': paths.MYSQL_USER,
        'mysql_db': paths.MYSQL_DB, 'service_password': service_password,
        'user': pwd.getpwuid(os.geteuid()).pw_name,
    }


def template_files(src):
    """Paths of the files under src, relative to it, sorted."""
    found = []
    for root, _, files in os.walk(src):
        found += [os.path.relpath(os.path.join(root, f), src) for f in files]
    return sorted(found)


def render_file(path, vals):
    """The text of one template with its placeholders filled in.

    Raises KeyError for a placeholder without a value.
    """
    with open(path) as f:
        return string.Template(f.read()).substitute(vals)


def write(path, text):
    """Write text to path, creating its directory."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def render_core(s, vals):
    """Render the core's templates into etc/; return the paths written."""
    written = []
    for service in CORE:
        src = os.path.join(paths.TEMPLATES, service)
        for rel in template_files(src):
            dst = os.path.join(s.etc, service, rel)
            write(dst, render_file(os.path.join(src, rel), vals))
            written.append(dst)
    return written


def copy_paste_files(s):
    """Copy the paste pipelines shipped in the venv into etc/."""
    for rel in PASTE_COPIES:
        dst = os.path.join(s.etc, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(os.path.join(s.venv, 'etc', rel), dst)


def write_configs(s, service_password):
    """Every configuration file of the core services."""
    render_core(s, values(s, service_password))
    copy_paste_files(s)


def parse_ini(text):
    """[(section, [(key, value), ...]), ...] of an ini text, in order."""
    sections = []
    for line in text.splitlines():
        m = _SECTION.match(line)
        if m:
            sections.append((m.group(1), []))
            continue
        m = _OPTION.match(line)
        if m and sections:
            sections[-1][1].append((m.group(1), m.group(2)))
    return sections


def set_options(text, section, options):
    """text of an ini file with options [(key, value)] set in section.

    An option already there is replaced in place; a new one goes after the
    section's last option; a missing section is appended.
    """
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines)
              if (m := _SECTION.match(line)) and m.group(1) == section]
    if not starts:
        if lines and lines[-1].strip():
            lines.append('')
        lines.append('[%s]' % section)
        lines += ['%s = %s' % kv for kv in options]
        return '\n'.join(lines) + '\n'
    start = starts[0]
    for key, value in options:
        end = next((i for i in range(start + 1, len(lines))
                    if _SECTION.match(lines[i])), len(lines))
        new = '%s = %s' % (key, value)
        same = [i for i in range(start + 1, end)
                if (m := _OPTION.match(lines[i])) and m.group(1) == key]
        if same:
            lines[same[0]] = new
            continue
        last = end - 1
        while last > start and not lines[last].strip():
            last -= 1
        lines.insert(last + 1, new)
    return '\n'.join(lines) + '\n'


def merge(path, fragment):
    """Set every option of the ini text fragment in the file at path."""
    with open(path) as f:
        text = f.read()
    for section, options in parse_ini(fragment):
        text = set_options(text, section, options)
    write(path, text)


def render_component(s, name, vals):
    """Render a component's templates: create files or merge into them.

    Returns the services (template directory names) whose files changed.
    """
    src = os.path.join(paths.TEMPLATES, 'components', name)
    changed = []
    for rel in template_files(src):
        dst = os.path.join(s.etc, rel)
        text = render_file(os.path.join(src, rel), vals)
        if os.path.exists(dst):
            merge(dst, text)
        else:
            write(dst, text)
        changed.append(rel.split(os.sep)[0])
    return sorted(set(changed))
