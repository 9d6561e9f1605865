// German texts (Deutsch). Keys missing here show in English.
export default {
  'common.recordings': 'Aufnahmen',
};
