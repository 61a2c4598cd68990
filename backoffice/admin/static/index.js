"use strict";
document.addEventListener("DOMContentLoaded", () => Admin.start(async () => {}));
