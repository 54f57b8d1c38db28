/** The demo café-restaurant: what `start --demo` and `seed-demo` put into an empty store. */

export const demoStations = ['Kitchen', 'Cold & Pastry', 'Bar'];

export const demoTaxRates = [
  { key: 'reduced', name: 'Reduced 7%', ratePpm: 70_000 },
  { key: 'standard', name: 'Standard 19%', ratePpm: 190_000 },
];

type Option = [name: string, priceDelta: number];
interface GroupSpec { key: string; name: string; min: number; max: number; options: Option[] }
interface ProductSpec {
  name: string;
  price: number;
  sku?: string;
  barcodes?: string[];
  groups?: string[];
  station?: string | null;
  tax?: string;
  openPrice?: boolean;
}
interface CategorySpec { name: string; colour: string; tax: string; station?: string; groups?: string[]; products: ProductSpec[] }

const modifierGroups: GroupSpec[] = [
  { key: 'size', name: 'Size', min: 1, max: 1, options: [['Small', 0], ['Regular', 50], ['Large', 100]] },
  { key: 'milk', name: 'Milk', min: 0, max: 1, options: [['Whole milk', 0], ['Oat milk', 40], ['Soy milk', 30], ['Almond milk', 40], ['Lactose-free', 20]] },
  { key: 'extras', name: 'Extras', min: 0, max: 3, options: [['Extra shot', 60], ['Vanilla syrup', 40], ['Caramel syrup', 40], ['Whipped cream', 50]] },
  { key: 'eggs', name: 'Eggs', min: 1, max: 1, options: [['Fried', 0], ['Scrambled', 0], ['Poached', 0]] },
  { key: 'doneness', name: 'Doneness', min: 1, max: 1, options: [['Rare', 0], ['Medium rare', 0], ['Medium', 0], ['Well done', 0]] },
  { key: 'sides', name: 'Sides', min: 0, max: 2, options: [['Fries', 350], ['Side salad', 300], ['Sourdough bread', 150], ['Sweet potato fries', 400]] },
  { key: 'dressing', name: 'Dressing', min: 0, max: 1, options: [['Vinaigrette', 0], ['Caesar', 0], ['Yoghurt herb', 0]] },
];

const categories: CategorySpec[] = [
  {
    name: 'Coffee', colour: '#7c4a2d', tax: 'standard', station: 'Bar', groups: ['size', 'milk', 'extras'],
    products: [
      { name: 'Espresso', price: 250, groups: ['extras'] },
      { name: 'Double espresso', price: 320, groups: ['extras'] },
      { name: 'Americano', price: 320 },
      { name: 'Cappuccino', price: 380 },
      { name: 'Flat white', price: 400 },
      { name: 'Latte', price: 420 },
      { name: 'Mocha', price: 450 },
      { name: 'Cold brew', price: 420, groups: ['size', 'milk'] },
    ],
  },
  {
    name: 'Tea & soft drinks', colour: '#15803d', tax: 'standard', station: 'Bar',
    products: [
      { name: 'English breakfast tea', price: 300, groups: ['milk'] },
      { name: 'Green tea', price: 300 },
      { name: 'Fresh mint tea', price: 350 },
      { name: 'Chai latte', price: 420, groups: ['size', 'milk'] },
      { name: 'Fresh orange juice', price: 450, groups: ['size'] },
      { name: 'Homemade lemonade', price: 400 },
      { name: 'Sparkling water 0.5 l', price: 280, sku: 'BEV-SPARK-05', barcodes: ['4006040000013'] },
      { name: 'Cola 0.33 l', price: 320, sku: 'BEV-COLA-033', barcodes: ['5000112548167'] },
    ],
  },
  {
    name: 'Breakfast', colour: '#ca8a04', tax: 'standard', station: 'Kitchen',
    products: [
      { name: 'Eggs on sourdough', price: 950, groups: ['eggs'] },
      { name: 'Full breakfast', price: 1450, groups: ['eggs'] },
      { name: 'Avocado toast', price: 1100, groups: ['eggs'] },
      { name: 'Pancake stack', price: 980, groups: ['extras'] },
      { name: 'Granola bowl', price: 850, station: 'Cold & Pastry' },
      { name: 'Shakshuka', price: 1200 },
      { name: 'Bircher muesli', price: 780, station: 'Cold & Pastry' },
    ],
  },
  {
    name: 'Mains', colour: '#b91c1c', tax: 'standard', station: 'Kitchen',
    products: [
      { name: 'Cheeseburger', price: 1450, groups: ['doneness', 'sides'] },
      { name: 'Veggie burger', price: 1350, groups: ['sides'] },
      { name: 'Rib-eye steak', price: 2850, groups: ['doneness', 'sides'] },
      { name: 'Fish & chips', price: 1650 },
      { name: 'Mushroom risotto', price: 1480 },
      { name: 'Chicken curry', price: 1550, groups: ['sides'] },
      { name: 'Soup of the day', price: 750, groups: ['sides'] },
    ],
  },
  {
    name: 'Salads & sandwiches', colour: '#65a30d', tax: 'standard', station: 'Cold & Pastry',
    products: [
      { name: 'Caesar salad', price: 1250, groups: ['dressing'] },
      { name: 'Greek salad', price: 1150, groups: ['dressing'] },
      { name: 'Club sandwich', price: 1190, groups: ['sides'], station: 'Kitchen' },
      { name: 'Halloumi wrap', price: 1050 },
      { name: 'Tuna melt', price: 1090, station: 'Kitchen' },
      { name: 'BLT', price: 990 },
    ],
  },
  {
    name: 'Cakes & pastries', colour: '#db2777', tax: 'standard', station: 'Cold & Pastry',
    products: [
      { name: 'Croissant', price: 280 },
      { name: 'Pain au chocolat', price: 320 },
      { name: 'Cinnamon bun', price: 380 },
      { name: 'Carrot cake', price: 480 },
      { name: 'Cheesecake', price: 520, groups: ['extras'] },
      { name: 'Brownie', price: 350 },
      { name: 'Scone with jam & cream', price: 420 },
    ],
  },
  {
    name: 'Retail', colour: '#4338ca', tax: 'reduced',
    products: [
      { name: 'House blend beans 250 g', price: 1190, sku: 'RET-BEANS-250', barcodes: ['4260123450014'], station: null },
      { name: 'Single origin beans 250 g', price: 1490, sku: 'RET-SO-250', barcodes: ['4260123450021'], station: null },
      { name: 'Ground coffee 500 g', price: 1890, sku: 'RET-GROUND-500', barcodes: ['4260123450038', '4260123450045'], station: null },
      { name: 'Loose-leaf tea tin', price: 990, sku: 'RET-TEA-TIN', barcodes: ['4260123450052'], station: null },
      { name: 'Keep cup', price: 1500, sku: 'RET-KEEPCUP', barcodes: ['9312345678907'], station: null, tax: 'standard' },
      { name: 'Café mug', price: 1200, sku: 'RET-MUG', barcodes: ['4260123450069'], station: null, tax: 'standard' },
      { name: 'Gift voucher', price: 0, sku: 'RET-VOUCHER', station: null, openPrice: true, tax: 'standard' },
    ],
  },
];

export const demoCatalog = { modifierGroups, categories };

export const demoTables = [
  {
    area: 'Dining room',
    tables: [1, 2, 3, 4, 5, 6].map((n, i) => ({ name: `Table ${n}`, seats: n % 3 === 0 ? 6 : 4, x: 80 + (i % 3) * 160, y: 80 + Math.floor(i / 3) * 160 })),
  },
  {
    area: 'Terrace',
    tables: [7, 8, 9, 10].map((n, i) => ({ name: `Table ${n}`, seats: 2, x: 80 + i * 140, y: 420 })),
  },
];

export const demoStaff = [
  { name: 'Olivia (owner)', role: 'owner', pin: '1111' },
  { name: 'Marco (manager)', role: 'manager', pin: '2222' },
  { name: 'Chloe (cashier)', role: 'cashier', pin: '3333' },
  { name: 'Sam (server)', role: 'server', pin: '4444' },
];
