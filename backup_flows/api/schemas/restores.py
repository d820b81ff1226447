"""JSON schemas of the restores API (microversion 1.0)."""

from backup_flows.api.schemas import backups

NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255}

CREATE = {
    'type': 'object',
    'properties': {
        'restore': {
            'type': 'object',
            'properties': {
                'backup_id': {'type': 'string', 'minLength': 1,
                              'maxLength': 64},
                'name': NAME,
                'flavor_id': NAME,
                # network ids, or "none" for a server without a network
                'networks': {'oneOf': [
                    {'type': 'array', 'items': backups.UUID,
                     'uniqueItems': True, 'maxItems': 16},
                    {'const': 'none'}]},
                'availability_zone': NAME,
                'volume_type': NAME,
            },
            'required': ['backup_id'],
            'additionalProperties': False,
        },
    },
    'required': ['restore'],
    'additionalProperties': False,
}
