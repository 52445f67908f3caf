// Shared by the KafkaJS tests of listeners that need a login (not a test file itself).

/** How often `connectedAdmin` tries, 100 ms apart. */
const ATTEMPTS = 50;

/**
 * A connected KafkaJS admin of `client`. `partita serve --add-scram` creates its user once the
 * node is up, so the first login may need a moment: up to 50 tries, 100 ms apart.
 */
export async function connectedAdmin(client) {
  for (let i = 1; ; i++) {
    const admin = client.admin();
    try {
      await admin.connect();
      return admin;
    } catch (e) {
      if (i === ATTEMPTS) throw e;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
