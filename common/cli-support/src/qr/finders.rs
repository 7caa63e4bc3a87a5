//! Counting finder-pattern candidates in a binarized image, before the QR
//! decoder groups them.
//!
//! The decoder (`rqrr`) tries every plausible triple of finder patterns, and
//! for each triple copies the whole image: its work grows with the cube of
//! the number of candidates times the image's size. A picture tiled with
//! finder-pattern look-alikes (a kilobyte of PNG) kept it busy for minutes.
//! A genuine scan has three finder patterns a code, a few codes a picture;
//! counting the candidates first, the way the decoder finds them, lets an
//! image with far more be refused before the expensive step.

/// A finder pattern crossed by one row: black, white, black (three times
/// as wide), white, black, in the ratio 1:1:3:1:1 with the decoder's own
/// tolerance (each run within three quarters of a module of its ideal).
fn is_finder_row(runs: &[usize; 5]) -> bool {
    const CHECK: [usize; 5] = [1, 1, 3, 1, 1];
    let avg = (runs[0] + runs[1] + runs[3] + runs[4]) / 4;
    let err = avg * 3 / 4;
    runs.iter()
        .zip(CHECK)
        .all(|(&r, c)| r + err >= c * avg && r <= c * avg + err)
}

/// One candidate being followed down the rows.
struct Candidate {
    /// Where its last row's centre was.
    centre: usize,
    /// Its width (seven modules).
    width: usize,
    /// The last row it was seen on.
    last_row: usize,
    /// How many rows crossed it.
    rows: usize,
}

impl Candidate {
    /// Whether enough rows crossed it to be a finder pattern's centre
    /// square (three modules high) rather than a chance run in a code's
    /// data: half of it, and at least two rows.
    fn is_tall_enough(&self) -> bool {
        self.rows >= (self.width * 3 / 14).max(2)
    }
}

/// Counts the finder-pattern candidates of a binarized image, where
/// `is_dark(x, y)` says whether a pixel is dark. Stops counting past
/// `stop_after` (the answer is then `stop_after + 1`).
pub fn count(
    width: usize,
    height: usize,
    is_dark: impl Fn(usize, usize) -> bool,
    stop_after: usize,
) -> usize {
    let mut found = 0;
    let mut open: Vec<Candidate> = Vec::new();
    for y in 0..height {
        // The runs of the row, as in the decoder: a run ends at each change
        // of colour; a pattern ends when a dark run is followed by light.
        let mut runs = [0usize; 5];
        let mut changes = 0usize;
        let mut run = 1usize;
        let mut dark = width > 0 && is_dark(0, y);
        for x in 1..=width {
            // A virtual light pixel past the edge closes the last run.
            let d = x < width && is_dark(x, y);
            if d == dark {
                run += 1;
                continue;
            }
            runs.rotate_left(1);
            runs[4] = run;
            run = 1;
            changes += 1;
            dark = d;
            if !d && changes >= 5 && is_finder_row(&runs) {
                let w: usize = runs.iter().sum();
                let centre = x - w / 2;
                let module = (w / 7).max(1);
                match open
                    .iter_mut()
                    .find(|c| c.centre.abs_diff(centre) <= module && c.last_row + 2 >= y)
                {
                    Some(c) if c.last_row != y => {
                        c.centre = centre;
                        c.width = w;
                        c.last_row = y;
                        c.rows += 1;
                    }
                    Some(_) => {}
                    None => open.push(Candidate {
                        centre,
                        width: w,
                        last_row: y,
                        rows: 1,
                    }),
                }
            }
        }
        open.retain(|c| {
            let done = c.last_row + 2 < y + 1;
            if done && c.is_tall_enough() {
                found += 1;
            }
            !done
        });
        if found > stop_after {
            return found;
        }
    }
    found + open.iter().filter(|c| c.is_tall_enough()).count()
}
