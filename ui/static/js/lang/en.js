// English texts: the reference language; every key exists here.
// Keys: common.* shared, user.* the user app, admin.* the admin app.
export default {
  'common.recordings': 'Recordings',
};
