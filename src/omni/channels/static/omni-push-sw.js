/*
 * Omni web push service worker. A web shop includes it from its own service worker:
 *
 *   importScripts("https://omni.example.com/v1/push/sw.js");
 *
 * and subscribes a browser with the VAPID public key from GET /v1/push/vapid-public-key, sending
 * subscription.toJSON() plus the shopper's userId or anonymousId to POST /v1/push/subscriptions.
 */
self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = { title: event.data ? event.data.text() : "" };
  }
  const target = message.opened_url || message.url || "/";
  event.waitUntil(
    self.registration.showNotification(message.title || "", {
      body: message.body || "",
      data: { url: target, messageId: message.message_id },
      tag: message.message_id ? "omni-" + message.message_id : undefined,
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(self.clients.openWindow(url));
});
