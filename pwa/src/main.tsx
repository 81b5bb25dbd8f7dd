import { render } from "preact";
import { App } from "./app";
import { setLocale } from "./i18n";
import { currentLocale, session } from "./session";
import { registerServiceWorker } from "./sw-register";
import "./styles.css";

setLocale(currentLocale());
document.documentElement.lang = currentLocale();
render(<App />, document.getElementById("app")!);
void session().start();
void registerServiceWorker();
