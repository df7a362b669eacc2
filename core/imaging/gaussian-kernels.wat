;; Separable Gaussian blur passes in WebAssembly SIMD (f64x2), for core/imaging/gaussian.ts.
;;
;; Each output pixel is computed with exactly the operations of the JavaScript reference
;; (gaussianBlur2dJs): acc = 0, then acc = acc + w[k] * v[k] for k = 0, 1, … in that order,
;; as separate f64 multiplies and adds (no fused multiply-add), so the results are bitwise
;; identical. Two pixels share one f64x2 register; the lanes never mix.
;;
;; All pointers are byte offsets into the exported memory; the caller lays the buffers out.
;; Regenerate the committed bytes (gaussian-kernels-wasm.ts) with scripts/make-gaussian-wasm.ts.
(module
  (memory (export "memory") 1)

  ;; Horizontal pass of one row.
  ;;   $row   padded f64 row of $width + 2·$rx values; [$rx, $rx + $width) hold the input row,
  ;;          the $rx values either side are filled here with the first / last input value
  ;;   $kx    f64 kernel of $nk = 2·$rx + 1 weights
  ;;   $dst   f64 output row of $width values: dst[x] = Σ_k kx[k] · row[x + k]
  (func (export "hpass") (param $row i32) (param $width i32) (param $rx i32) (param $kx i32) (param $nk i32) (param $dst i32)
    (local $i i32) (local $x i32) (local $k i32) (local $kp i32) (local $sp i32) (local $dp i32)
    (local $first f64) (local $last f64) (local $acc f64)
    (local $w v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)

    ;; replicate the edges
    (local.set $first (f64.load (i32.add (local.get $row) (i32.shl (local.get $rx) (i32.const 3)))))
    (local.set $last (f64.load (i32.add (local.get $row)
      (i32.shl (i32.sub (i32.add (local.get $rx) (local.get $width)) (i32.const 1)) (i32.const 3)))))
    (block $edges_done
      (loop $edges
        (br_if $edges_done (i32.ge_u (local.get $i) (local.get $rx)))
        (f64.store (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 3))) (local.get $first))
        (f64.store (i32.add (local.get $row)
          (i32.shl (i32.add (i32.add (local.get $rx) (local.get $width)) (local.get $i)) (i32.const 3))) (local.get $last))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $edges)))

    ;; eight pixels at a time (four f64x2 accumulators)
    (block $by8_done
      (loop $by8
        (br_if $by8_done (i32.gt_u (i32.add (local.get $x) (i32.const 8)) (local.get $width)))
        (local.set $a0 (v128.const f64x2 0 0))
        (local.set $a1 (v128.const f64x2 0 0))
        (local.set $a2 (v128.const f64x2 0 0))
        (local.set $a3 (v128.const f64x2 0 0))
        (local.set $kp (local.get $kx))
        (local.set $sp (i32.add (local.get $row) (i32.shl (local.get $x) (i32.const 3))))
        (local.set $k (local.get $nk))
        (loop $taps
          (local.set $w (f64x2.splat (f64.load (local.get $kp))))
          (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $w) (v128.load (local.get $sp)))))
          (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $w) (v128.load offset=16 (local.get $sp)))))
          (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $w) (v128.load offset=32 (local.get $sp)))))
          (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $w) (v128.load offset=48 (local.get $sp)))))
          (local.set $kp (i32.add (local.get $kp) (i32.const 8)))
          (local.set $sp (i32.add (local.get $sp) (i32.const 8)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $taps (local.get $k)))
        (local.set $dp (i32.add (local.get $dst) (i32.shl (local.get $x) (i32.const 3))))
        (v128.store (local.get $dp) (local.get $a0))
        (v128.store offset=16 (local.get $dp) (local.get $a1))
        (v128.store offset=32 (local.get $dp) (local.get $a2))
        (v128.store offset=48 (local.get $dp) (local.get $a3))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (br $by8)))

    ;; two pixels at a time
    (block $by2_done
      (loop $by2
        (br_if $by2_done (i32.gt_u (i32.add (local.get $x) (i32.const 2)) (local.get $width)))
        (local.set $a0 (v128.const f64x2 0 0))
        (local.set $kp (local.get $kx))
        (local.set $sp (i32.add (local.get $row) (i32.shl (local.get $x) (i32.const 3))))
        (local.set $k (local.get $nk))
        (loop $taps2
          (local.set $a0 (f64x2.add (local.get $a0)
            (f64x2.mul (f64x2.splat (f64.load (local.get $kp))) (v128.load (local.get $sp)))))
          (local.set $kp (i32.add (local.get $kp) (i32.const 8)))
          (local.set $sp (i32.add (local.get $sp) (i32.const 8)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $taps2 (local.get $k)))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $x) (i32.const 3))) (local.get $a0))
        (local.set $x (i32.add (local.get $x) (i32.const 2)))
        (br $by2)))

    ;; the last pixel of an odd width
    (if (i32.lt_u (local.get $x) (local.get $width))
      (then
        (local.set $acc (f64.const 0))
        (local.set $kp (local.get $kx))
        (local.set $sp (i32.add (local.get $row) (i32.shl (local.get $x) (i32.const 3))))
        (local.set $k (local.get $nk))
        (loop $taps1
          (local.set $acc (f64.add (local.get $acc) (f64.mul (f64.load (local.get $kp)) (f64.load (local.get $sp)))))
          (local.set $kp (i32.add (local.get $kp) (i32.const 8)))
          (local.set $sp (i32.add (local.get $sp) (i32.const 8)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $taps1 (local.get $k)))
        (f64.store (i32.add (local.get $dst) (i32.shl (local.get $x) (i32.const 3))) (local.get $acc)))))

  ;; Vertical pass for one output row.
  ;;   $ptrs  $nk i32 byte offsets of the f64 source rows (already clamped to the plane), k ascending
  ;;   $ky    f64 kernel of $nk weights
  ;;   $dst   f32 output row of $width values: dst[x] = f32(Σ_k ky[k] · rows[k][x])
  (func (export "vpass") (param $ptrs i32) (param $nk i32) (param $ky i32) (param $dst i32) (param $width i32)
    (local $x i32) (local $k i32) (local $kp i32) (local $pp i32) (local $sp i32) (local $xo i32) (local $dp i32)
    (local $acc f64)
    (local $w v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)

    ;; eight pixels at a time
    (block $by8_done
      (loop $by8
        (br_if $by8_done (i32.gt_u (i32.add (local.get $x) (i32.const 8)) (local.get $width)))
        (local.set $a0 (v128.const f64x2 0 0))
        (local.set $a1 (v128.const f64x2 0 0))
        (local.set $a2 (v128.const f64x2 0 0))
        (local.set $a3 (v128.const f64x2 0 0))
        (local.set $kp (local.get $ky))
        (local.set $pp (local.get $ptrs))
        (local.set $xo (i32.shl (local.get $x) (i32.const 3)))
        (local.set $k (local.get $nk))
        (loop $taps
          (local.set $w (f64x2.splat (f64.load (local.get $kp))))
          (local.set $sp (i32.add (i32.load (local.get $pp)) (local.get $xo)))
          (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $w) (v128.load (local.get $sp)))))
          (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $w) (v128.load offset=16 (local.get $sp)))))
          (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $w) (v128.load offset=32 (local.get $sp)))))
          (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $w) (v128.load offset=48 (local.get $sp)))))
          (local.set $kp (i32.add (local.get $kp) (i32.const 8)))
          (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $taps (local.get $k)))
        (local.set $dp (i32.add (local.get $dst) (i32.shl (local.get $x) (i32.const 2))))
        ;; demote each pair to the low half of an f32x4 and join two pairs into one f32x4
        (v128.store (local.get $dp)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $a0)) (f32x4.demote_f64x2_zero (local.get $a1))))
        (v128.store offset=16 (local.get $dp)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $a2)) (f32x4.demote_f64x2_zero (local.get $a3))))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (br $by8)))

    ;; two pixels at a time
    (block $by2_done
      (loop $by2
        (br_if $by2_done (i32.gt_u (i32.add (local.get $x) (i32.const 2)) (local.get $width)))
        (local.set $a0 (v128.const f64x2 0 0))
        (local.set $kp (local.get $ky))
        (local.set $pp (local.get $ptrs))
        (local.set $xo (i32.shl (local.get $x) (i32.const 3)))
        (local.set $k (local.get $nk))
        (loop $taps2
          (local.set $a0 (f64x2.add (local.get $a0)
            (f64x2.mul (f64x2.splat (f64.load (local.get $kp)))
              (v128.load (i32.add (i32.load (local.get $pp)) (local.get $xo))))))
          (local.set $kp (i32.add (local.get $kp) (i32.const 8)))
          (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $taps2 (local.get $k)))
        (v128.store64_lane 0 (i32.add (local.get $dst) (i32.shl (local.get $x) (i32.const 2)))
          (f32x4.demote_f64x2_zero (local.get $a0)))
        (local.set $x (i32.add (local.get $x) (i32.const 2)))
        (br $by2)))

    ;; the last pixel of an odd width
    (if (i32.lt_u (local.get $x) (local.get $width))
      (then
        (local.set $acc (f64.const 0))
        (local.set $kp (local.get $ky))
        (local.set $pp (local.get $ptrs))
        (local.set $xo (i32.shl (local.get $x) (i32.const 3)))
        (local.set $k (local.get $nk))
        (loop $taps1
          (local.set $acc (f64.add (local.get $acc)
            (f64.mul (f64.load (local.get $kp)) (f64.load (i32.add (i32.load (local.get $pp)) (local.get $xo))))))
          (local.set $kp (i32.add (local.get $kp) (i32.const 8)))
          (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $taps1 (local.get $k)))
        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $x) (i32.const 2))) (f32.demote_f64 (local.get $acc))))))

  ;; Vertical pass for one output row, rounded to an unsigned integer type as core's
  ;; convertPlanes (scale 'none') rounds the float32 result: v = f32(Σ_k ky[k] · rows[k][x]),
  ;; then NaN → 0, v ≤ 0 → 0, v ≥ $hi → $hi, else floor(v + 0.5).
  ;;   $bytes 2: uint16 output ($hi = 65535); 1: uint8 output ($hi = 255)
  (func (export "vpassInt") (param $ptrs i32) (param $nk i32) (param $ky i32) (param $dst i32) (param $width i32) (param $bytes i32) (param $hi f64)
    (local $x i32) (local $k i32) (local $kp i32) (local $pp i32) (local $sp i32) (local $xo i32) (local $dp i32)
    (local $acc f64)
    (local $w v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $hiv v128) (local $q v128)
    (local.set $hiv (f64x2.splat (local.get $hi)))

    ;; eight pixels at a time
    (block $by8_done
      (loop $by8
        (br_if $by8_done (i32.gt_u (i32.add (local.get $x) (i32.const 8)) (local.get $width)))
        (local.set $a0 (v128.const f64x2 0 0))
        (local.set $a1 (v128.const f64x2 0 0))
        (local.set $a2 (v128.const f64x2 0 0))
        (local.set $a3 (v128.const f64x2 0 0))
        (local.set $kp (local.get $ky))
        (local.set $pp (local.get $ptrs))
        (local.set $xo (i32.shl (local.get $x) (i32.const 3)))
        (local.set $k (local.get $nk))
        (loop $taps
          (local.set $w (f64x2.splat (f64.load (local.get $kp))))
          (local.set $sp (i32.add (i32.load (local.get $pp)) (local.get $xo)))
          (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $w) (v128.load (local.get $sp)))))
          (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $w) (v128.load offset=16 (local.get $sp)))))
          (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $w) (v128.load offset=32 (local.get $sp)))))
          (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $w) (v128.load offset=48 (local.get $sp)))))
          (local.set $kp (i32.add (local.get $kp) (i32.const 8)))
          (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $taps (local.get $k)))
        ;; eight u16 (each pair: rounded, clamped, truncated to i32 in the low lanes, then joined)
        (local.set $q (i16x8.narrow_i32x4_u
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (call $round2 (local.get $a0) (local.get $hiv)) (call $round2 (local.get $a1) (local.get $hiv)))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (call $round2 (local.get $a2) (local.get $hiv)) (call $round2 (local.get $a3) (local.get $hiv)))))
        (if (i32.eq (local.get $bytes) (i32.const 2))
          (then (v128.store (i32.add (local.get $dst) (i32.shl (local.get $x) (i32.const 1))) (local.get $q)))
          (else (v128.store64_lane 0 (i32.add (local.get $dst) (local.get $x))
            (i8x16.narrow_i16x8_u (local.get $q) (local.get $q)))))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (br $by8)))

    ;; the rest one pixel at a time
    (block $by1_done
      (loop $by1
        (br_if $by1_done (i32.ge_u (local.get $x) (local.get $width)))
        (local.set $acc (f64.const 0))
        (local.set $kp (local.get $ky))
        (local.set $pp (local.get $ptrs))
        (local.set $xo (i32.shl (local.get $x) (i32.const 3)))
        (local.set $k (local.get $nk))
        (loop $taps1
          (local.set $acc (f64.add (local.get $acc)
            (f64.mul (f64.load (local.get $kp)) (f64.load (i32.add (i32.load (local.get $pp)) (local.get $xo))))))
          (local.set $kp (i32.add (local.get $kp) (i32.const 8)))
          (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $taps1 (local.get $k)))
        (local.set $k (i32x4.extract_lane 0 (call $round2 (f64x2.splat (local.get $acc)) (local.get $hiv))))
        (if (i32.eq (local.get $bytes) (i32.const 2))
          (then (i32.store16 (i32.add (local.get $dst) (i32.shl (local.get $x) (i32.const 1))) (local.get $k)))
          (else (i32.store8 (i32.add (local.get $dst) (local.get $x)) (local.get $k))))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $by1))))

  ;; Two f64 sums → float32 → rounded and clamped to [0, hi] (NaN → 0) → u32 in lanes 0 and 1.
  (func $round2 (param $a v128) (param $hiv v128) (result v128)
    (i32x4.trunc_sat_f64x2_u_zero
      (f64x2.pmin (local.get $hiv)
        (f64x2.pmax (v128.const f64x2 0 0)
          (f64x2.floor (f64x2.add (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (local.get $a))) (v128.const f64x2 0.5 0.5)))))))
)
