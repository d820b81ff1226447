"""JSON schemas of the backups API (microversion 1.0)."""

UUID = {'type': 'string', 'format': 'uuid'}
TAG = {'type': 'string', 'minLength': 1, 'maxLength': 255,
       'pattern': '^[^,\\x00-\\x1f]+$'}


def create(quiesce_modes):
    """POST /v1/backups; ``quiesce_modes``: the installed strategies."""
    return {
        'type': 'object',
        'properties': {
            'backup': {
                'type': 'object',
                'properties': {
                    'server_id': UUID,
                    'quiesce': {'type': 'string', 'enum': quiesce_modes},
                    'tags': {'type': 'array', 'items': TAG,
                             'maxItems': 50, 'uniqueItems': True},
                },
                'required': ['server_id'],
                'additionalProperties': False,
            },
        },
        'required': ['backup'],
        'additionalProperties': False,
    }
