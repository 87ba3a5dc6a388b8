// Kept so `app/webhooks.js` imports on other branches still resolve (NodeNext does not map a
// module path to a folder's index); the rooms are in ./webhooks/. Delete once no import uses it.
export * from "./webhooks/index.js";
