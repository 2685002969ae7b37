import { defineConfig } from "vite";

// The build goes to dist/, which main.go embeds; assets get hashed names under /assets/.
export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true, assetsDir: "assets", sourcemap: false },
});
