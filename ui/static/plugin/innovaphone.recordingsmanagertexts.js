// Texts of the Recordings PBX Manager plugin, by language. The PBX Manager
// shows pluginTitle in the user's language.
var innovaphone = innovaphone || {};
innovaphone.recordingsmanagertexts = {
    en: {
        pluginTitle: "Recordings",
        user: "Recordings",
        admin: "Recordings Admin",
        title: "Name",
        sip: "SIP",
        url: "URL",
        add: "Add an App",
        edit: "Edit the App",
        ok: "OK",
        cancel: "Cancel",
        del: "Delete",
        templates: "Config templates",
        access: "Access list",
        accessHelp: "Extensions whose recordings the users of this App may see besides their own: numbers or user names, separated by commas.",
        connected: "connected",
        notConnected: "not connected",
        noInstance: "The recordings service cannot be reached: the access lists cannot be edited now.",
        error: "The PBX refused the change",
        empty: "No Recordings App objects yet."
    },
    de: {
        pluginTitle: "Recordings",
        user: "Recordings",
        admin: "Recordings Admin",
        title: "Name",
        sip: "SIP",
        url: "URL",
        add: "App hinzufügen",
        edit: "App bearbeiten",
        ok: "OK",
        cancel: "Abbrechen",
        del: "Löschen",
        templates: "Konfigurationsvorlagen",
        access: "Zugriffsliste",
        accessHelp: "Nebenstellen, deren Aufnahmen die Benutzer dieser App außer ihren eigenen sehen dürfen: Rufnummern oder Benutzernamen, durch Kommas getrennt.",
        connected: "verbunden",
        notConnected: "nicht verbunden",
        noInstance: "Der Aufnahmedienst ist nicht erreichbar: die Zugriffslisten können jetzt nicht bearbeitet werden.",
        error: "Die PBX hat die Änderung abgelehnt",
        empty: "Noch keine Recordings-App-Objekte."
    }
};
