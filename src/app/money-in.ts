// Kept so `app/money-in.js` imports on other branches still resolve (NodeNext does not map a
// module path to a folder's index); the rooms are in ./money-in/. Delete once no import uses it.
export * from "./money-in/index.js";
