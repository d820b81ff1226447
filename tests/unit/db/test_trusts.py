"""Trust references: one per user and project, counted by holders."""

from backup_flows import exceptions
from backup_flows.db import api
from backup_flows.db import catalog
from backup_flows.db import models
from backup_flows.db import trusts

from tests.unit import db as db_base


class TrustReferenceTestCase(db_base.DatabaseTestCase):

    def create(self, trust_id='trust-1', user_id='user-a'):
        ref, created = trusts.create_reference(self.context, user_id,
                                               'project-a', trust_id)
        self.assertTrue(created)
        return ref

    def holders(self, ref):
        return trusts.get_reference(self.context, ref['user_id'],
                                    ref['project_id'])['holders']

    def test_get_or_create(self):
        self.assertIsNone(trusts.get_reference(self.context, 'user-a',
                                               'project-a'))
        ref = self.create()
        self.assertEqual({'trust_id': 'trust-1', 'user_id': 'user-a',
                          'project_id': 'project-a', 'holders': 0},
                         {key: ref[key] for key in
                          ('trust_id', 'user_id', 'project_id', 'holders')})
        self.assertEqual(ref, trusts.get_reference(self.context, 'user-a',
                                                   'project-a'))
        # another user of the project has a trust of their own
        self.assertNotEqual(ref['id'], self.create('trust-2', 'user-b')['id'])

    def test_second_create_gets_the_first_reference(self):
        ref = self.create()
        again, created = trusts.create_reference(self.context, 'user-a',
                                                 'project-a', 'trust-late')
        self.assertFalse(created)
        self.assertEqual(ref, again)

    def test_last_holder_removed_signals_the_delete(self):
        ref = self.create()
        trusts.add_holder(self.context, ref['id'], 'job', 'job-1')
        trusts.add_holder(self.context, ref['id'], 'policy', 'policy-1')
        self.assertEqual(2, self.holders(ref))
        self.assertIsNone(trusts.remove_holder(self.context, ref['id'],
                                               'job', 'job-1'))
        self.assertEqual(1, self.holders(ref))
        self.assertEqual('trust-1', trusts.remove_holder(
            self.context, ref['id'], 'policy', 'policy-1'))
        self.assertIsNone(trusts.get_reference(self.context, 'user-a',
                                               'project-a'))

    def test_holders_are_idempotent(self):
        ref = self.create()
        trusts.add_holder(self.context, ref['id'], 'job', 'job-1')
        trusts.add_holder(self.context, ref['id'], 'job', 'job-1')
        trusts.add_holder(self.context, ref['id'], 'job', 'job-2')
        self.assertEqual(2, self.holders(ref))
        self.assertIsNone(trusts.remove_holder(self.context, ref['id'],
                                               'job', 'job-1'))
        self.assertIsNone(trusts.remove_holder(self.context, ref['id'],
                                               'job', 'job-1'))
        self.assertEqual(1, self.holders(ref))
        self.assertEqual('trust-1', trusts.remove_holder(
            self.context, ref['id'], 'job', 'job-2'))
        # released twice: the trust was already handed over for deletion
        self.assertIsNone(trusts.remove_holder(self.context, ref['id'],
                                               'job', 'job-2'))

    def test_removal_interrupted_between_its_steps_is_finished(self):
        ref = self.create()
        trusts.add_holder(self.context, ref['id'], 'job', 'job-1')
        # the holder's row deleted, then a crash before the reference's
        with api.writer(self.context) as session:
            session.query(models.TrustReferenceHolder).delete()
        self.assertEqual('trust-1', trusts.remove_holder(
            self.context, ref['id'], 'job', 'job-1'))

    def test_holder_of_a_gone_reference(self):
        ref = self.create()
        trusts.add_holder(self.context, ref['id'], 'job', 'job-1')
        trusts.remove_holder(self.context, ref['id'], 'job', 'job-1')
        error = self.assertRaises(exceptions.TrustReferenceNotFound,
                                  trusts.add_holder, self.context,
                                  ref['id'], 'job', 'job-2')
        self.assertIn('get or create the reference again', str(error))
        # and no holder row was left behind
        with api.reader(self.context) as session:
            self.assertEqual(
                0, session.query(models.TrustReferenceHolder).count())

    def test_unknown_holder_type(self):
        ref = self.create()
        self.assertRaises(ValueError, trusts.add_holder, self.context,
                          ref['id'], 'server', 'x')
        self.assertRaises(ValueError, trusts.remove_holder, self.context,
                          ref['id'], 'server', 'x')

    def test_job_names_its_trust_reference(self):
        ref = self.create()
        job = catalog.create_entry(self.context, models.Job,
                                   {'id': 'job-1', 'flow': 'backup-create',
                                    'state': 'PENDING',
                                    'trust_ref_id': ref['id']})
        trusts.add_holder(self.context, ref['id'], 'job', job['id'])
        self.assertEqual(ref['id'], catalog.get_entry(
            self.context, models.Job, 'job-1')['trust_ref_id'])
