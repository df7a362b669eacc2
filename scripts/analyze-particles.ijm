// Measures the particle fixtures with ImageJ (one JVM start for all cases):
//   xvfb-run -a java -jar /usr/share/java/ij.jar -batch scripts/analyze-particles.ijm "IMAGES_DIR|OUT_DIR"
// IMAGES_DIR holds the images and cases.tsv (scripts/particle-fixture-images.py); for each case
// OUT_DIR gets <case>.tsv (one row per particle) and a row of summary.tsv; for the binary images
// it gets ImageJ's Process › Binary results as <image>-<op>.tif and the particles of the
// watershed result as <image>-watershed.tsv. Times (getTime(), ms) go to timing.tsv.
args = split(getArgument(), "|");
dir = args[0] + "/";
out = args[1] + "/";
setBatchMode(true);
run("Set Measurements...", "area mean min centroid perimeter bounding shape area_fraction redirect=None decimal=9");
setOption("BlackBackground", true);
run("Options...", "iterations=1 count=1 black edm=32-bit");
cols = newArray("Area", "Perim.", "Circ.", "X", "Y", "BX", "BY", "Width", "Height", "Mean", "Min", "Max");

function saveParticles(path) {
  f = File.open(path);
  header = "";
  for (c = 0; c < cols.length; c++) { if (c > 0) header = header + "\t"; header = header + cols[c]; }
  print(f, header);
  for (i = 0; i < nResults; i++) {
    line = "";
    for (c = 0; c < cols.length; c++) { if (c > 0) line = line + "\t"; line = line + d2s(getResult(cols[c], i), 9); }
    print(f, line);
  }
  File.close(f);
}

function summaryLine(name) {
  n = Table.size("Summary");
  return name + "\t" + Table.get("Count", n - 1, "Summary") + "\t" + d2s(Table.get("Total Area", n - 1, "Summary"), 9) + "\t" + d2s(Table.get("%Area", n - 1, "Summary"), 9);
}

lines = split(File.openAsString(dir + "cases.tsv"), "\n");
summary = "name\tcount\ttotalArea\tpercentArea";
timing = "name\tms";
for (k = 1; k < lines.length; k++) {
  v = split(lines[k], "\t");
  if (v.length < 10) continue;
  open(dir + v[1]);
  setThreshold(parseFloat(v[2]), parseFloat(v[3]));
  opts = "size=" + v[4] + "-" + v[5] + " pixel circularity=" + v[6] + "-" + v[7] + " show=Nothing display clear summarize";
  if (v[8] == "1") opts = opts + " exclude";
  if (v[9] == "1") opts = opts + " include";
  t0 = getTime();
  run("Analyze Particles...", opts);
  timing = timing + "\n" + v[0] + "\t" + (getTime() - t0);
  saveParticles(out + v[0] + ".tsv");
  summary = summary + "\n" + summaryLine(v[0]);
  close("*");
}

binaries = newArray("shapes.tif", "random.tif", "discs.tif");
ops = newArray("Fill Holes", "Erode", "Dilate", "Open", "Close-", "Watershed", "Distance Map");
names = newArray("fill-holes", "erode", "dilate", "open", "close", "watershed", "edm");
for (b = 0; b < binaries.length; b++) {
  base = replace(binaries[b], ".tif", "");
  for (o = 0; o < ops.length; o++) {
    open(dir + binaries[b]);
    setThreshold(128, 255);
    run("Convert to Mask");
    run(ops[o]);
    saveAs("Tiff", out + base + "-" + names[o] + ".tif");
    if (names[o] == "watershed") {
      setThreshold(128, 255);
      run("Analyze Particles...", "size=0-Infinity pixel circularity=0.00-1.00 show=Nothing display clear summarize");
      saveParticles(out + base + "-watershed.tsv");
      summary = summary + "\n" + summaryLine(base + "-watershed");
    }
    close("*");
  }
}
File.saveString(summary + "\n", out + "summary.tsv");
File.saveString(timing + "\n", out + "timing.tsv");
print("analyze-particles.ijm: done");
